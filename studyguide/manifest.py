"""The course manifest (``course.toml``): which modules exist and what they are about."""

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import StudyguideError
from .grading.exports import VISIBILITIES

MANIFEST_NAME = "course.toml"
EXPECTED_MODULE_COUNT = 9
EDITIONS = ("instructor", "student")
STUDENT_EDITION = "student"
#: Who may see a result on Gradescope (the values of its ``visibility`` fields).
GRADESCOPE_VISIBILITIES = tuple(VISIBILITIES)
MODULE_ID = re.compile(r"^(0[1-9])-[a-z][a-z0-9-]*$")


class ManifestError(StudyguideError, ValueError):
    """The manifest cannot be read or breaks one of its rules."""


@dataclass(frozen=True)
class Module:
    """One module of the course, as the manifest describes it."""

    id: str
    title: str
    goal: str
    topics: tuple[str, ...]
    lab: str
    available: bool
    hints: tuple[str, ...]
    optional: bool = False
    retires: tuple[str, ...] = ()
    # App configuration added when an earlier module's graders run on this lab or a later one
    # (for example ``{LOGIN_DISABLED = true}`` once login guards every route).
    earlier_graders_config: dict = field(default_factory=dict, hash=False, compare=False)
    # Files and folders of the lab, besides the package, that a submission hands in and the
    # graders need (a deployable lab's wsgi.py, migrations/ and render.yaml, say).
    handed_in: tuple[str, ...] = ()

    @property
    def number(self):
        """The module's position in the course, 1 to 9."""
        return int(self.id[:2])


@dataclass(frozen=True)
class Course:
    """A course on disk: its root folder and its modules, in order."""

    root: Path
    title: str
    package: str
    modules: tuple[Module, ...] = field(default_factory=tuple)
    edition: str = "instructor"
    # ``[gradescope]`` in course.toml: when students see the hidden graders' results (names,
    # points, hints) on Gradescope, and who sees the autograder's own log.
    gradescope_visibility: str = "visible"
    gradescope_stdout_visibility: str = "hidden"

    @property
    def is_student_edition(self):
        """True in a student edition built by ``studyguide release``."""
        return self.edition == STUDENT_EDITION

    @property
    def available(self):
        """The modules whose lab, solution and graders exist."""
        return tuple(m for m in self.modules if m.available)

    def module(self, module_id):
        """Return the module with this id, or raise ManifestError listing the known ids."""
        for module in self.modules:
            if module.id == module_id or module.id.split("-")[0] == module_id:
                return module
        known = ", ".join(m.id for m in self.modules)
        raise ManifestError(f"unknown module {module_id!r}; known modules: {known}")

    def earlier(self, module):
        """The available modules before ``module``, whose graders the lab must still pass."""
        return tuple(m for m in self.available if m.number < module.number)

    def retired(self, module):
        """Grader node ids retired by ``module`` or by any available module before it."""
        return {r for m in self.available if m.number <= module.number for r in m.retires}

    def path(self, kind, module):
        """The folder of ``module`` in ``kind`` (solutions, labs, grading, modules)."""
        return self.root / kind / module.id

    def notebook(self, module):
        """The lesson notebook of ``module``."""
        return self.root / "notebooks" / f"{module.id}.ipynb"


def _module_from_table(table, index):
    """Build a Module from one ``[[modules]]`` table, naming the table in errors."""
    where = f"{MANIFEST_NAME}: modules[{index}]"
    required = ("id", "title", "goal", "topics", "lab", "hints")
    missing = [key for key in required if key not in table]
    if missing:
        raise ManifestError(f"{where} is missing {', '.join(missing)}")
    if not MODULE_ID.match(str(table["id"])):
        raise ManifestError(f"{where}: id {table['id']!r} is not like '01-routing'")
    for key in ("topics", "hints"):
        values = table[key]
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, str) and v.strip() for v in values)
        ):
            raise ManifestError(f"{where} ({table['id']}): {key} must be a non-empty list of text")
    for key in ("title", "goal", "lab"):
        if not isinstance(table[key], str) or not table[key].strip():
            raise ManifestError(f"{where} ({table['id']}): {key} must be non-empty text")
    earlier_config = table.get("earlier_graders_config", {})
    if not isinstance(earlier_config, dict):
        raise ManifestError(f"{where} ({table['id']}): earlier_graders_config must be a table")
    handed_in = table.get("handed_in", [])
    if not isinstance(handed_in, list) or not all(_lab_relative(p) for p in handed_in):
        raise ManifestError(
            f"{where} ({table['id']}): handed_in must list paths inside the lab, like 'wsgi.py'"
        )
    return Module(
        id=table["id"],
        title=table["title"],
        goal=table["goal"],
        topics=tuple(table["topics"]),
        lab=table["lab"],
        available=bool(table.get("available", False)),
        hints=tuple(table["hints"]),
        optional=bool(table.get("optional", False)),
        retires=tuple(table.get("retires", ())),
        earlier_graders_config=dict(earlier_config),
        handed_in=tuple(handed_in),
    )


def _lab_relative(path):
    """True for a plain relative path that stays inside the lab folder."""
    if not isinstance(path, str) or not path.strip() or "\\" in path:
        return False
    parts = path.split("/")
    return not path.startswith("/") and all(part not in ("", ".", "..") for part in parts)


def _gradescope_settings(table):
    """``{"gradescope_visibility": ..., ...}`` from the optional ``[gradescope]`` table."""
    if not isinstance(table, dict):
        raise ManifestError(f"{MANIFEST_NAME}: [gradescope] must be a table")
    unknown = sorted(set(table) - {"visibility", "stdout_visibility"})
    if unknown:
        raise ManifestError(
            f"{MANIFEST_NAME}: [gradescope] knows visibility and stdout_visibility, "
            f"not {', '.join(unknown)}"
        )
    settings = {}
    for key, default in (("visibility", "visible"), ("stdout_visibility", "hidden")):
        value = table.get(key, default)
        if value not in GRADESCOPE_VISIBILITIES:
            raise ManifestError(
                f"{MANIFEST_NAME}: [gradescope] {key} must be one of "
                f"{', '.join(GRADESCOPE_VISIBILITIES)}, not {value!r}"
            )
        settings[f"gradescope_{key}"] = value
    return settings


def load_course(root="."):
    """Read ``course.toml`` under ``root`` and return the validated Course."""
    root = Path(root).resolve()
    path = root / MANIFEST_NAME
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"no {MANIFEST_NAME} in {root}: is this a course folder?") from None
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{path}: {exc}") from None
    course = data.get("course", {})
    modules = tuple(_module_from_table(t, i) for i, t in enumerate(data.get("modules", [])))
    ids = [m.id for m in modules]
    if len(ids) != EXPECTED_MODULE_COUNT:
        raise ManifestError(f"{MANIFEST_NAME} lists {len(ids)} modules; the course has 9")
    expected = [f"{n:02d}" for n in range(1, EXPECTED_MODULE_COUNT + 1)]
    if [i[:2] for i in ids] != expected:
        raise ManifestError(f"{MANIFEST_NAME}: modules must be numbered 01..09 in order: {ids}")
    edition = course.get("edition", "instructor")
    if edition not in EDITIONS:
        raise ManifestError(f"{MANIFEST_NAME}: edition must be one of {EDITIONS}, not {edition!r}")
    return Course(
        root=root,
        title=course.get("title", "Course"),
        package=course.get("package", "bookshelf"),
        modules=modules,
        edition=edition,
        **_gradescope_settings(data.get("gradescope", {})),
    )


def find_course_root(start=None):
    """The nearest folder at or above ``start`` (default: the cwd) holding ``course.toml``.

    Raises ManifestError when there is none, so every command says the same thing outside a
    course.
    """
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / MANIFEST_NAME).is_file():
            return folder
    raise ManifestError(
        f"no {MANIFEST_NAME} in {here} or any folder above it: run this inside the course"
    )


def modules_or_available(course, module_ids):
    """The modules named by ``module_ids`` (ids or numbers), or every available one."""
    if module_ids:
        return [course.module(module_id) for module_id in module_ids]
    return list(course.available)
