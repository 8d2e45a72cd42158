"""Lesson notebooks: structural checks, execution and the real nbgrader round trip.

A lesson notebook (``notebooks/<module id>.ipynb``) is an nbgrader *source* notebook. Invariant 5
says it is well formed, committed without outputs, runs top to bottom, passes
``nbgrader validate`` with its solutions in place, and its student release (made by the real
``nbgrader generate_assignment``) fails every graded test until the student solves it.

Every nbgrader step here is the real command run in a subprocess (:func:`nbgrader_command`), so
what passes here is what an instructor gets.
"""

import contextlib
import copy
import json
import os
import re
import shutil
import sys
import tempfile
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

#: Optional modules the course's notebook tools start without. jsonschema, which nbformat and
#: nbgrader import, loads rfc3987-syntax when it is installed, for its "iri" format check, and
#: that package builds some thirty parsers as it is imported: 2.7 s of every start on this
#: machine. No notebook or nbgrader schema uses that format; without the module, jsonschema
#: leaves it unchecked, exactly as when the package is not installed.
SLOW_OPTIONAL_MODULES = ("rfc3987_syntax",)


def skip_slow_optional_modules():
    """Make importing any of :data:`SLOW_OPTIONAL_MODULES` fail fast in this process (as if the
    package were not installed), unless it is already imported."""
    for name in SLOW_OPTIONAL_MODULES:
        sys.modules.setdefault(name, None)


skip_slow_optional_modules()  # before nbformat is first imported

import nbformat  # noqa: E402

from studyguide.grading.processes import run_group  # noqa: E402


def nbgrader_command(python, *args):
    """The command line of ``nbgrader ARGS`` run by ``python``: nbgrader's own entry point, started
    without :data:`SLOW_OPTIONAL_MODULES` (``-I``: no user site, no current folder on the path)."""
    main = (f"import sys\nsys.modules.update(dict.fromkeys({SLOW_OPTIONAL_MODULES!r}))\n"
            "from nbgrader.apps.nbgraderapp import main\nmain()\n")
    return [python, "-I", "-c", main, *args]


NBGRADER_SCHEMA_VERSION = 3
MIN_GRADED_TESTS = 3
# The marker pairs nbgrader strips from the release, and the cells they belong in.
MARKERS = {
    "SOLUTION": "solution",
    "HIDDEN TESTS": "grade",
}
# Like nbgrader, a marker is the phrase anywhere in a line (usually `### BEGIN SOLUTION`).
_MARKER_RE = re.compile(r"\b(BEGIN|END) (SOLUTION|HIDDEN TESTS)\b")
# nbgrader validate exits 0 whatever happened; these lines are how it reports the outcome.
_VALIDATE_OK = ("Success! Your notebook passes all the tests.",)
_VALIDATE_INVERT_OK = ("Success! The notebook does not pass any tests.",)
_VALIDATE_BAD = ("VALIDATION FAILED", "NOTEBOOK PASSED ON", "HAVE CHANGED", "HAS CHANGED",
                 "Traceback", " | ERROR]", " | CRITICAL]")


def nbgrader_meta(cell):
    """Return the nbgrader metadata of a cell (an empty dict when it has none)."""
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def is_graded_test(cell):
    """True for an autograder test cell: graded code that is not a student answer."""
    meta = nbgrader_meta(cell)
    return cell.get("cell_type") == "code" and meta.get("grade") and not meta.get("solution")


def cell_source(cell):
    """The source of a cell as one string (raw notebook JSON may hold a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _where(path, index, cell):
    """Name a cell in a message: file, index and grade_id when there is one."""
    grade_id = nbgrader_meta(cell).get("grade_id")
    label = f"cell {index}" + (f" (grade_id {grade_id!r})" if grade_id else "")
    return f"{path}: {label}"


def _marker_problems(path, index, cell):
    """Check that the markers in one cell are balanced, not nested, and in the right cell."""
    problems = []
    meta = nbgrader_meta(cell)
    where = _where(path, index, cell)
    open_kind = None
    for lineno, line in enumerate(cell_source(cell).splitlines(), start=1):
        match = _MARKER_RE.search(line)
        if not match:
            continue
        edge, kind = match.groups()
        if not meta.get(MARKERS[kind]):
            problems.append(
                f"{where}: line {lineno}: '{edge} {kind}' in a cell that is not a "
                f"{MARKERS[kind]} cell (nbgrader would leave it in the release)"
            )
        if edge == "BEGIN":
            if open_kind:
                problems.append(f"{where}: line {lineno}: 'BEGIN {kind}' inside an open "
                                f"'BEGIN {open_kind}' (markers never nest)")
            open_kind = kind
        elif open_kind != kind:
            problems.append(f"{where}: line {lineno}: 'END {kind}' without 'BEGIN {kind}'")
            open_kind = None
        else:
            open_kind = None
    if open_kind:
        problems.append(f"{where}: 'BEGIN {open_kind}' without 'END {open_kind}'")
    return problems


def _cell_problems(path, index, cell):
    """The problems of one cell: outputs, id, nbgrader metadata and markers."""
    problems = []
    where = _where(path, index, cell)
    if not cell.get("id"):
        problems.append(f"{where}: the cell has no id")
    if cell.get("cell_type") == "code":
        if cell.get("outputs"):
            problems.append(f"{where}: the cell has outputs (commit notebooks without outputs)")
        if cell.get("execution_count") is not None:
            problems.append(f"{where}: execution_count is {cell['execution_count']}, not null")
    meta = nbgrader_meta(cell)
    if meta:
        if meta.get("schema_version") != NBGRADER_SCHEMA_VERSION:
            problems.append(f"{where}: nbgrader schema_version is "
                            f"{meta.get('schema_version')!r}, not {NBGRADER_SCHEMA_VERSION}")
        if any(meta.get(kind) for kind in ("grade", "solution", "locked", "task")) and not meta.get(
            "grade_id"
        ):
            problems.append(f"{where}: nbgrader cell without a grade_id")
        if meta.get("grade") or meta.get("task"):
            points = meta.get("points")
            if not isinstance(points, int | float) or isinstance(points, bool) or points <= 0:
                problems.append(f"{where}: graded cell without positive points ({points!r})")
        if is_graded_test(cell) and not meta.get("locked"):
            problems.append(f"{where}: graded test cell is not locked")
        if meta.get("solution") and cell.get("cell_type") == "code":
            lines = [_MARKER_RE.search(line) for line in cell_source(cell).splitlines()]
            if not any(m and m.groups() == ("BEGIN", "SOLUTION") for m in lines):
                problems.append(f"{where}: solution cell without '### BEGIN SOLUTION'")
    problems += _marker_problems(path, index, cell)
    return problems


def check_source_notebook(path):
    """Return the problems of a committed nbgrader source notebook (empty list: it is fine).

    Checks: valid nbformat 4 with cell ids, no outputs and no execution counts, nbgrader metadata
    (schema 3, unique grade_ids, points on graded cells, locked test cells), balanced
    ``BEGIN/END SOLUTION`` and ``BEGIN/END HIDDEN TESTS`` markers in the right cells, a
    ``### BEGIN SOLUTION`` in every code answer cell, and at least three graded test cells.
    """
    path = Path(path)
    try:
        # Raw JSON: nbformat's reader would quietly repair missing cell ids.
        nb = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
            raise ValueError("not a notebook: no list of cells")
    except (OSError, ValueError) as exc:  # unreadable file, bad JSON, not a notebook
        return [f"{path}: cannot read the notebook: {exc}"]
    problems = []
    if nb.get("nbformat") != 4:
        problems.append(f"{path}: nbformat is {nb.get('nbformat')!r}, not 4")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the missing-id warning; reported below per cell
        try:
            nbformat.validate(nbformat.from_dict(copy.deepcopy(nb)))
        except nbformat.ValidationError as exc:
            problems.append(f"{path}: invalid nbformat: {exc.message}")
    kernel = nb.get("metadata", {}).get("kernelspec", {}).get("name")
    if kernel != "python3":
        problems.append(f"{path}: kernelspec is {kernel!r}, not 'python3'")
    seen, cell_ids = {}, {}
    for index, cell in enumerate(nb.get("cells", [])):
        problems += _cell_problems(path, index, cell)
        if cell.get("id") in cell_ids:
            problems.append(f"{_where(path, index, cell)}: duplicate cell id {cell['id']!r} "
                            f"(also cell {cell_ids[cell['id']]})")
        cell_ids.setdefault(cell.get("id"), index)
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id and grade_id in seen:
            problems.append(f"{_where(path, index, cell)}: duplicate grade_id "
                            f"(also cell {seen[grade_id]})")
        elif grade_id:
            seen[grade_id] = index
    tests = sum(1 for cell in nb.get("cells", []) if is_graded_test(cell))
    if tests < MIN_GRADED_TESTS:
        problems.append(f"{path}: {tests} graded test cell(s), at least {MIN_GRADED_TESTS} needed")
    return problems


def execute_notebook(path, timeout=120):
    """Execute a copy of a notebook top to bottom and return its errors (empty: ran clean).

    The kernel is ``python3`` and its working directory a fresh temporary folder, so a lesson
    cannot depend on (or litter) the repository. Every cell runs even after an error, so one
    broken cell does not hide the next. Output on stderr (warnings) counts as an error too.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="nb-exec-") as workdir:
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                                resources={"metadata": {"path": workdir}})
        # The kernel's own log (start-up chatter, or why it died) goes to a file, not our stderr.
        with open(Path(workdir) / "kernel.log", "w+", encoding="utf-8") as log:
            try:
                client.execute(stderr=log)
            except CellTimeoutError as exc:
                return [f"{path}: execution stopped: {type(exc).__name__}: {str(exc)[:500]}"]
            except DeadKernelError as exc:
                log.seek(0)
                tail = log.read()[-1000:].strip()
                return [f"{path}: execution stopped: the kernel died ({exc})"
                        + (f"\nkernel log: {tail}" if tail else "")]
    errors = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            where = _where(path, index, cell)
            if output.get("output_type") == "error":
                errors.append(f"{where}: {output.get('ename')}: {output.get('evalue')}")
            elif output.get("output_type") == "stream" and output.get("name") == "stderr":
                errors.append(f"{where}: wrote to stderr: {output.get('text', '').strip()[:300]}")
    return errors


class NbgraderError(RuntimeError):
    """A real nbgrader command failed; the message holds the command and its output."""


def _nbgrader(args, cwd, timeout=600):
    """Run ``nbgrader <args>`` in ``cwd``; return (returncode, combined output).

    The command runs in its own process group, so a timeout also ends the kernels it started;
    the returncode is then None.
    """
    cmd = nbgrader_command(sys.executable, *args)
    # nbgrader shells out to `alembic` for a new gradebook: find it next to this interpreter
    # even when the virtual environment is not activated.
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    finished = run_group(cmd, timeout=timeout, cwd=cwd, env=env)
    if finished.timed_out:
        message = f"`nbgrader {' '.join(args)}` timed out after {timeout}s"
        return None, f"{finished.output}\n{message}"
    return finished.returncode, finished.output


def write_nbgrader_config(dest, course_id="flask-study-guide"):
    """Write ``dest/nbgrader_config.py``: ``dest`` becomes a course with its own gradebook."""
    dest = Path(dest).resolve()
    config = (
        "# Generated by studyguide: an nbgrader course directory.\n"
        "c = get_config()  # noqa: F821\n"
        f"c.CourseDirectory.root = {str(dest)!r}\n"
        f"c.CourseDirectory.course_id = {course_id!r}\n"
        f"c.CourseDirectory.db_url = {'sqlite:///' + str(dest / 'gradebook.db')!r}\n"
        f"c.Exchange.root = {str(dest / 'exchange')!r}\n"
    )
    (dest / "nbgrader_config.py").write_text(config)


def nbgrader_course(course_root, dest, module_ids, course_id="flask-study-guide"):
    """Make (or refresh) a real nbgrader course at ``dest`` and generate the given assignments.

    ``notebooks/<id>.ipynb`` is copied to ``dest/source/<id>/<id>.ipynb`` (assignment and
    notebook are both named by the module id) and ``nbgrader generate_assignment <id> --force``
    writes ``dest/release/<id>/<id>.ipynb``. Anything else in ``dest`` (gradebook, submitted,
    autograded) is kept, so the same folder serves release building and autograding.
    Raises :class:`NbgraderError` with nbgrader's output when a command fails. Returns ``dest``.
    """
    course_root, dest = Path(course_root), Path(dest).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    write_nbgrader_config(dest, course_id)
    for module_id in module_ids:
        notebook = course_root / "notebooks" / f"{module_id}.ipynb"
        if not notebook.is_file():
            raise NbgraderError(f"{notebook}: no such notebook for module {module_id!r}")
        source = dest / "source" / module_id
        source.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(notebook, source / f"{module_id}.ipynb")
        released = dest / "release" / module_id / f"{module_id}.ipynb"
        released.unlink(missing_ok=True)  # a stale release must not pass for a new one
        code, output = _nbgrader(["generate_assignment", module_id, "--force"], cwd=dest)
        if code != 0 or not released.is_file():
            raise NbgraderError(
                f"nbgrader generate_assignment {module_id} --force failed in {dest} "
                f"(exit {code}):\n{output.strip()}"
            )
    return dest


def validate(path, invert=False, timeout=120):
    """Run the real ``nbgrader validate`` (``--invert`` when asked); return (passed, output).

    nbgrader 0.9 exits 0 even when validation fails and says so in its output, so the verdict
    comes from the output: passed only on its success line and none of its failure lines.
    With ``invert=True`` "passed" means no graded test passes (what a fresh release should do).
    ``timeout`` is per cell; the whole command gets ten times as long.
    """
    path = Path(path).resolve()
    args = ["validate", str(path), f"--ExecutePreprocessor.timeout={timeout}"]
    code, output = _nbgrader(args + (["--invert"] if invert else []), cwd=path.parent,
                             timeout=timeout * 10)
    success = _VALIDATE_INVERT_OK if invert else _VALIDATE_OK
    passed = (
        code == 0
        and any(line in output for line in success)
        and not any(bad in output for bad in _VALIDATE_BAD)
    )
    return passed, output


def _failed_cells(output):
    """Pull the first line of each cell nbgrader validate names in its output."""
    cells = re.findall(r"The following cell (?:failed|passed|has changed):\n\n(.*)\n", output)
    return "; ".join(line.strip() for line in cells) or output.strip()[-1500:]


def _check_module(course_root, module_id, workdir, timeout):
    """Invariant 5 for one module; every message ends with a command that helps."""
    rel = Path("notebooks") / f"{module_id}.ipynb"
    notebook = course_root / rel
    edit = f"jupyter lab {rel}"
    if not notebook.is_file():
        return [f"{rel}: missing notebook for module {module_id}; create it: `{edit}`"]
    problems = []
    for problem in check_source_notebook(notebook):
        fix = (f"jupyter nbconvert --clear-output --inplace {rel}"
               if "has outputs" in problem or "execution_count" in problem else edit)
        problems.append(f"{_relative(problem, notebook, rel)}; fix: `{fix}`")
    if any("cannot read" in p or "invalid nbformat" in p for p in problems):
        return problems

    dest = Path(workdir) / module_id
    shutil.rmtree(dest, ignore_errors=True)
    with ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(execute_notebook, notebook, timeout)
        problems += _nbgrader_problems(course_root, module_id, dest, rel, timeout)
        run_cmd = f"jupyter nbconvert --to notebook --execute --stdout {rel} > /dev/null"
        problems += [f"{_relative(error, notebook, rel)}; run: `{run_cmd}`"
                     for error in running.result()]
    return problems


def _relative(message, notebook, rel):
    """Name the notebook by its path in the course, as the suggested commands do."""
    return message.replace(str(notebook), str(rel), 1)


def _nbgrader_problems(course_root, module_id, dest, rel, timeout):
    """generate_assignment, validate on the source, validate --invert on the release."""
    try:
        nbgrader_course(course_root, dest, [module_id])
    except NbgraderError as exc:
        cmd = f"cd {dest} && nbgrader generate_assignment {module_id} --force"
        return [f"{rel}: {exc}\nrun: `{cmd}`"]
    problems = []
    passed, output = validate(dest / "source" / module_id / f"{module_id}.ipynb", timeout=timeout)
    if not passed:
        problems.append(f"{rel}: nbgrader validate fails on the source notebook: "
                        f"{_failed_cells(output)}; run: `nbgrader validate {rel}`")
    release = dest / "release" / module_id / f"{module_id}.ipynb"
    passed, output = validate(release, invert=True, timeout=timeout)
    if not passed:
        problems.append(f"{rel}: the student release passes graded tests before it is solved "
                        f"(free points): {_failed_cells(output)}; "
                        f"run: `nbgrader validate --invert {release}`")
    return problems


def check_notebooks(course_root, module_ids, workdir=None, timeout=120):
    """Invariant 5 for these modules; return the problems (empty list: all notebooks are fine).

    For each module: the source checks, a top-to-bottom execution, the real
    ``nbgrader generate_assignment``, ``nbgrader validate`` passing on the source and
    ``nbgrader validate --invert`` passing on the release (no graded test passes unsolved).
    The nbgrader courses are built under ``workdir`` (default
    ``<course_root>/.studyguide-cache/notebooks``) and kept, so the commands in the messages
    can be rerun; a lock keeps two checks from sharing one ``workdir`` at the same time.
    Modules are checked two at a time.
    """
    course_root = Path(course_root).resolve()
    workdir = Path(workdir) if workdir else course_root / ".studyguide-cache" / "notebooks"
    workdir.mkdir(parents=True, exist_ok=True)
    with _locked(workdir), ThreadPoolExecutor(max_workers=2) as pool:
        results = pool.map(lambda m: _check_module(course_root, m, workdir, timeout), module_ids)
        return [problem for problems in results for problem in problems]


@contextlib.contextmanager
def _locked(folder):
    """Hold an exclusive lock on ``folder`` so two checks never rebuild it at the same time."""
    try:
        import fcntl
    except ImportError:  # no advisory locks on this platform: run unlocked
        yield
        return
    with open(Path(folder) / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
