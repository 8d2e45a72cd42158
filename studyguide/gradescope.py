"""A Gradescope autograder bundle of one module: ``studyguide gradescope MODULE --out DIR``.

Gradescope grades every submission in a fresh container. The bundle is what its autograder zip
holds (unpacked in ``/autograder/source``):

- ``setup.sh``: run once when Gradescope builds the image; makes a Python environment with
  what lab grading needs (``requirements.txt``) and installs the course tool from ``tool/``;
- ``run_autograder``: run for every submission; grades ``/autograder/submission`` with the same
  sandboxed runner as ``studyguide grade`` (:func:`studyguide.grading.lab_jobs.grade_one_lab`)
  and writes ``/autograder/results/results.json``;
- ``course/``: ``course.toml`` (the module's later modules marked unavailable) and the hidden
  graders the module's lab runs: its own and every earlier available module's.

Points and hints come from the graders' ``grade`` markers, test entries from
:mod:`studyguide.grading.exports`, visibility from ``[gradescope]`` in ``course.toml``. The
Gradescope root is ``/autograder``; ``AUTOGRADER_ROOT`` moves it for a local run.
``python -m studyguide.gradescope run ...`` is what ``run_autograder`` calls.
"""

import argparse
import importlib.metadata
import json
import re
import shlex
import shutil
import sys
import tempfile
import time
import tomllib
import traceback
import zipfile
from dataclasses import dataclass
from pathlib import Path

import jinja2

from studyguide.errors import StudyguideError
from studyguide.grading.exports import gradescope_tests, whole_points
from studyguide.manifest import MANIFEST_NAME, load_course

TEMPLATES = ("setup.sh", "run_autograder")
#: Dependencies of the course tool that only notebooks or instructors need, not lab grading.
NOT_FOR_LAB_GRADING = ("nbgrader", "jupyterlab")
#: The folders of a submission searched for the lab, at most this deep.
SEARCH_DEPTH = 4
SKIPPED_FOLDERS = {"__MACOSX", "__pycache__", "node_modules"}


@dataclass
class Bundle:
    """What :func:`build_bundle` wrote."""

    folder: Path
    archive: Path
    module_id: str
    grader_modules: list[str]
    tests: int
    points: float


# ---------------------------------------------------------------------------------------------
# Building the bundle


def _template_environment():
    """Jinja2 for shell scripts: strict, with ``| sh`` quoting a value for bash."""
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("studyguide", "templates/gradescope"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        autoescape=False,
    )
    environment.filters["sh"] = lambda value: shlex.quote(str(value))
    return environment


def bundle_manifest(course, module):
    """``course.toml`` for the bundle: every module after ``module`` marked unavailable.

    The bundle holds only the graders the module's lab runs; nothing else changes (later
    modules never add configuration or retire tests for an earlier lab).
    """
    text = (course.root / MANIFEST_NAME).read_text(encoding="utf-8")
    lines, current = [], None
    for line in text.splitlines():
        found = re.match(r'^id\s*=\s*"([^"]+)"', line)
        if found:
            current = found.group(1)
        if current and re.match(r"^available\s*=", line) and current > module.id:
            line = "available = false"
        lines.append(line)
    return "\n".join(lines) + "\n"


def lab_requirements(course):
    """The requirements lab grading installs: the course tool's dependencies minus notebook
    tools, each pinned to the version installed here (the one the graders were run with),
    plus the distributions the bundled graders import that are not among them."""
    project = tomllib.loads((course.root / "pyproject.toml").read_text(encoding="utf-8"))
    requirements = []
    for spec in project["project"]["dependencies"]:
        name = re.match(r"^[A-Za-z0-9_.-]+", spec).group(0)
        if name.lower() in NOT_FOR_LAB_GRADING:
            continue
        extras = re.match(r"^[A-Za-z0-9_.-]+(\[[^\]]*\])?", spec).group(1) or ""
        try:
            requirements.append(f"{name}{extras}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            requirements.append(spec)
    return requirements


def grader_imports(folders):
    """Distributions (``name==version``) the grader files import, found in this environment."""
    providers = importlib.metadata.packages_distributions()
    wanted = set()
    for folder in folders:
        for path in sorted(Path(folder).glob("*.py")):
            for line in path.read_text(encoding="utf-8").splitlines():
                found = re.match(r"^(?:import|from)\s+([A-Za-z_][A-Za-z0-9_]*)", line)
                if found and found.group(1) in providers and found.group(1) != "studyguide":
                    for distribution in providers[found.group(1)]:
                        wanted.add(f"{distribution}=={importlib.metadata.version(distribution)}")
    return sorted(wanted)


def system_packages(folders):
    """Ubuntu packages the bundled graders ask for, in their own words: every package named
    after ``apt-get install -y`` in their files (module 07's graders need a PostgreSQL server)."""
    wanted = []
    for folder in folders:
        for path in sorted(Path(folder).glob("*.py")):
            text = path.read_text(encoding="utf-8")
            for found in re.finditer(r"apt-get install -y ((?:[a-z0-9][a-z0-9.+-]*\b ?)+)", text):
                wanted += [name for name in found.group(1).split() if name not in wanted]
    return wanted


def _merge_requirements(base, extra):
    """``base`` plus the entries of ``extra`` whose distribution it does not name."""
    def key(spec):
        return re.match(r"^[A-Za-z0-9_.-]+", spec).group(0).lower().replace("_", "-")

    named = {key(spec) for spec in base}
    return [*base, *(spec for spec in extra if key(spec) not in named)]


def minimum_python(course):
    """(major, minor) of the course tool's ``requires-python`` (``>=3.11`` gives (3, 11))."""
    project = tomllib.loads((course.root / "pyproject.toml").read_text(encoding="utf-8"))
    found = re.search(r">=\s*(\d+)\.(\d+)", project["project"].get("requires-python", ""))
    return (int(found.group(1)), int(found.group(2))) if found else (3, 11)


def _prepare_out(out, force):
    """An empty ``out``; an earlier bundle there is replaced only with ``force``."""
    if out.exists() and any(out.iterdir()):
        if not force:
            raise StudyguideError(f"{out} is not empty: choose a new folder or pass --force")
        if not (out / "run_autograder").is_file():
            raise StudyguideError(f"{out} does not hold a Gradescope bundle; not replacing it")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def _copy_tool(course, target):
    """The course tool as an installable source tree: pyproject, README, the package."""
    target.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copyfile(course.root / name, target / name)
    shutil.copytree(course.root / "studyguide", target / "studyguide",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def _write_archive(folder, archive):
    """Zip ``folder``'s contents at the archive's root, keeping the scripts executable."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                info = zipfile.ZipInfo.from_file(path, path.relative_to(folder).as_posix())
                info.compress_type = zipfile.ZIP_DEFLATED
                out.writestr(info, path.read_bytes())


def build_bundle(course_root, module_id, out, *, force=False):
    """Write the Gradescope bundle of ``module_id`` to ``out`` and ``out``.zip; return it.

    Raises StudyguideError for an unknown or unavailable module, missing or broken graders,
    or an ``out`` that already holds something else.
    """
    from studyguide.grading.runner import expected_tests, graded_modules, require_graders

    course = load_course(course_root)
    module = course.module(module_id)
    if not module.available:
        raise StudyguideError(f"{module.id} is not available yet: there are no graders to bundle")
    require_graders(course)
    expected = expected_tests(course, module.id)
    ids, _ = graded_modules(course, module.id)
    out = Path(out).resolve()
    _prepare_out(out, force)

    grading = out / "course" / "grading"
    grading.mkdir(parents=True)
    (out / "course" / MANIFEST_NAME).write_text(bundle_manifest(course, module), encoding="utf-8")
    shutil.copyfile(course.root / "grading" / "conftest.py", grading / "conftest.py")
    for graded_id in ids:
        shutil.copytree(course.root / "grading" / graded_id, grading / graded_id,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    bundled = load_course(out / "course")
    if [m.id for m in bundled.available] != ids:
        raise StudyguideError(f"the bundle's course.toml makes {bundled.available} available")
    _copy_tool(course, out / "tool")
    grader_folders = [grading, *(grading / graded_id for graded_id in ids)]
    requirements = _merge_requirements(lab_requirements(course), grader_imports(grader_folders))
    (out / "requirements.txt").write_text("\n".join(requirements) + "\n", encoding="utf-8")

    environment = _template_environment()
    values = {
        "module": module, "course": course, "grader_modules": ids,
        "system_packages": system_packages(grader_folders),
        "python_version": ".".join(map(str, minimum_python(course))),
        "tests": len(expected), "points": whole_points(sum(t.weight for t in expected)),
        "fallback_results": json.dumps(crash_results("grading stopped before writing results")),
    }
    for name in TEMPLATES:
        path = out / name
        path.write_text(environment.get_template(f"{name}.j2").render(**values), encoding="utf-8")
        path.chmod(0o755)
    archive = out.parent / f"{out.name}.zip"
    _write_archive(out, archive)
    return Bundle(out, archive, module.id, ids, len(expected), float(values["points"]))


# ---------------------------------------------------------------------------------------------
# Grading one submission (run_autograder)


def _holds_lab(folder, package):
    """True when ``folder`` has the lab's package folder (not a symbolic link)."""
    candidate = folder / package
    return candidate.is_dir() and not candidate.is_symlink()


def _labs_below(folder, package, depth=SEARCH_DEPTH):
    """Every folder at or below ``folder`` holding ``package/``, shallowest first."""
    found, level = [], [folder]
    for _ in range(depth + 1):
        following = []
        for current in level:
            if _holds_lab(current, package):
                found.append(current)
                continue
            try:
                children = sorted(current.iterdir())
            except OSError:
                continue
            following += [c for c in children if c.is_dir() and not c.is_symlink()
                          and c.name not in SKIPPED_FOLDERS and not c.name.startswith(".")]
        level = following
    return found


def find_lab(submission, module_id, scratch, package="bookshelf"):
    """The lab folder in a Gradescope submission: the upload itself, the folder it holds
    (``03-crud-api/``, ``labs/03-crud-api/``, a zip's wrapping folder), or the same inside one
    uploaded zip (extracted safely under ``scratch``). Raises SubmissionError saying why not.
    """
    from studyguide.grading.intake import SubmissionError as ZipError
    from studyguide.grading.intake import first_symlink, safe_extract
    from studyguide.grading.runner import SubmissionError

    submission = Path(submission)
    if not submission.is_dir() or not any(submission.iterdir()):
        raise SubmissionError("nothing was submitted: upload your lab folder (or a zip of it)")
    link = first_symlink(submission)
    if link is not None:
        where = link.relative_to(submission).as_posix()
        raise SubmissionError(f"{where} is a symbolic link; symbolic links are refused")
    base = submission
    labs = _labs_below(base, package)
    zips = sorted(p for p in submission.iterdir() if p.is_file() and p.suffix.lower() == ".zip")
    if not labs and len(zips) == 1:
        base = Path(scratch) / "upload"
        try:
            safe_extract(zips[0], base)
        except (ZipError, OSError) as exc:
            raise SubmissionError(f"{zips[0].name}: {exc}") from None
        labs = _labs_below(base, package)
    if not labs:
        raise SubmissionError(
            f"no lab found: the upload has no {package}/ folder. Upload the folder "
            f"labs/{module_id}/ (or its contents, or a zip of it) with {package}/ inside")
    named = [lab for lab in labs if lab.name == module_id]
    if len(labs) == 1 or named:
        return (named or labs)[0]
    shown = ", ".join(lab.relative_to(base).as_posix() for lab in labs[:4])
    raise SubmissionError(
        f"several labs were uploaded ({shown}): upload only labs/{module_id}/")


def results_json(course, part, seconds):
    """Gradescope's ``results.json`` of one graded lab (a :class:`PartResult`)."""
    summary = (f"Lab {part.module_id}: {whole_points(part.score)} of "
               f"{whole_points(part.max_score)} points.")
    lines = [summary]
    if part.error:
        lines.append(f"This lab scored 0 because it could not be graded:\n{part.error}")
    else:
        failed = [item for item in part.items if not item.passed]
        if failed:
            lines.append(f"{len(failed)} of {len(part.items)} checks failed: each one below "
                         "has a hint.")
    return {
        "score": whole_points(part.score),
        "execution_time": round(seconds, 2),
        "output": "\n".join(lines),
        "visibility": course.gradescope_visibility,
        "stdout_visibility": course.gradescope_stdout_visibility,
        "tests": gradescope_tests(part, course.gradescope_visibility),
    }


def grade_submission(course_root, module_id, submission, *, python=None):
    """Grade a Gradescope submission of lab ``module_id``; return its ``results.json`` dict.

    A submission that cannot be graded (no lab, a syntax or import error, a symbolic link)
    scores 0 with the reason in ``output``; every grader test is still listed.
    """
    from studyguide.grading.lab_jobs import grade_one_lab, lab_result_from_runner
    from studyguide.grading.runner import SubmissionError, expected_tests, failed_lab

    started = time.monotonic()
    course = load_course(course_root)
    module = course.module(module_id)
    python = python or sys.executable
    with tempfile.TemporaryDirectory(prefix="studyguide-gradescope-") as scratch:
        try:
            lab = find_lab(submission, module.id, scratch, course.package)
        except SubmissionError as exc:
            result = failed_lab(module.id, expected_tests(course, module.id), str(exc), started)
            part = lab_result_from_runner("submission", module.id, result, 0.0)
        else:
            print(f"grading {lab} as lab {module.id}", flush=True)
            part = grade_one_lab(course.root, module.id, lab, "submission", python)
    return results_json(course, part, time.monotonic() - started)


def crash_results(reason):
    """``results.json`` when the autograder itself failed: 0 points, and why."""
    return {
        "score": 0,
        "output": "The autograder could not grade this submission; please tell your "
                  f"instructor. ({reason})",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [],
    }


def write_results(data, path):
    """Write ``results.json`` (its folder created when missing)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def run(course_root, module_id, submission, results):
    """What ``run_autograder`` does: grade, write ``results``; always write it. Returns 0."""
    from studyguide.grading.sandbox import isolation_summary

    try:
        print(f"isolation of student code: {isolation_summary()}", flush=True)
        data = grade_submission(course_root, module_id, submission)
    except Exception as exc:  # the grader broke: say so in the results instead of crashing
        traceback.print_exc()
        data = crash_results(f"{type(exc).__name__}: {str(exc)[:500]}")
    write_results(data, results)
    print(f"{results}: {data['score']} points", flush=True)
    return 0


def check(course_root, module_id):
    """What ``setup.sh`` ends with: the bundled graders load here. Returns 0, or 1 with why."""
    from studyguide.grading.runner import expected_tests

    try:
        expected = expected_tests(load_course(course_root), module_id)
    except StudyguideError as exc:
        print(f"the graders of {module_id} do not load: {exc}", file=sys.stderr)
        return 1
    points = whole_points(sum(t.weight for t in expected))
    print(f"graders of {module_id} ready: {len(expected)} tests, {points} points")
    return 0


def main(argv=None):
    """``python -m studyguide.gradescope run --course C --module M --submission S --results R``
    (``run_autograder``), or ``check --course C --module M`` (``setup.sh``)."""
    parser = argparse.ArgumentParser(prog="python -m studyguide.gradescope")
    sub = parser.add_subparsers(dest="command", required=True)
    ready = sub.add_parser("check", help="check that the bundled graders load")
    ready.add_argument("--course", required=True, help="the bundle's course folder")
    ready.add_argument("--module", required=True, help="the module whose lab is graded")
    grade = sub.add_parser("run", help="grade one submission into results.json")
    grade.add_argument("--course", required=True, help="the bundle's course folder")
    grade.add_argument("--module", required=True, help="the module whose lab is graded")
    grade.add_argument("--submission", required=True, help="the student's upload")
    grade.add_argument("--results", required=True, help="where results.json goes")
    args = parser.parse_args(argv)
    if args.command == "check":
        return check(args.course, args.module)
    return run(args.course, args.module, args.submission, args.results)


if __name__ == "__main__":
    sys.exit(main())
