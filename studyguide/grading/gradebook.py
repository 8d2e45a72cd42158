"""One nbgrader gradebook for the whole course: notebook scores and lab scores side by side.

nbgrader's own ``autograde`` fills in the notebook assignments (named by module id). Labs are
written here through nbgrader's public API (:class:`nbgrader.api.Gradebook`) as assignments
``lab-<module id>`` holding one notebook ``lab`` whose grade cells are the hidden grader tests
(``max_score`` = the test's points). Each student's test results become the ``auto_score`` of
those cells, so ``nbgrader export`` lists labs and notebooks in one CSV and the formgrader
still opens the database.
"""

import copy
import os
import re
import shutil
import sys
import warnings
from datetime import UTC, datetime
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning

LAB_NOTEBOOK = "lab"
DEFAULT_COURSE_ID = "flask-study-guide"
DB_NAME = "gradebook.db"


def lab_assignment(module_id: str) -> str:
    """The gradebook name of a module's lab assignment."""
    return f"lab-{module_id}"


def item_key(item) -> str:
    """The grade cell name of a lab test: its node id, with only characters that are safe in
    the formgrader's HTML ids (``01-routing/test_a.py::test_b`` -> ``01-routing-test_a-py-test_b``).
    """
    return re.sub(r"[^A-Za-z0-9_-]+", "-", item.nodeid or item.name).strip("-")


def _put_alembic_on_path() -> None:
    """nbgrader runs the ``alembic`` command to stamp a new database; find it in this venv.

    Without an activated virtual environment the command is not on PATH even though it is
    installed beside this interpreter.
    """
    scripts = str(Path(sys.executable).parent)
    if shutil.which("alembic") is None and (Path(scripts) / "alembic").is_file():
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")


def open_gradebook(course_dir: Path, course_id: str = DEFAULT_COURSE_ID) -> Gradebook:
    """Open the course's gradebook (``course_dir/gradebook.db``), creating it when needed."""
    _put_alembic_on_path()
    return Gradebook(f"sqlite:///{Path(course_dir) / DB_NAME}", course_id)


def ensure_lab_assignment(gb: Gradebook, module_id: str, cells: dict[str, float]) -> None:
    """Make ``lab-<module>`` hold exactly these grade cells, recreating it when they changed.

    Recreating drops the old lab grades of that module; the caller writes them again.
    """
    name = lab_assignment(module_id)
    try:
        notebook = gb.find_notebook(LAB_NOTEBOOK, name)
        existing = {cell.name: cell.max_score for cell in notebook.grade_cells}
        if existing == cells:
            return
        gb.remove_assignment(name)
    except MissingEntry:
        try:
            gb.remove_assignment(name)
        except MissingEntry:
            pass
    gb.add_assignment(name)
    gb.add_notebook(LAB_NOTEBOOK, name)
    for cell_name, points in cells.items():
        gb.add_grade_cell(cell_name, LAB_NOTEBOOK, name, max_score=points, cell_type="code")


def lab_key_items(answer_key, parts) -> list:
    """The tests of a lab, one grade cell each: the answer key's, else the longest student list."""
    sources = [answer_key] if answer_key is not None and answer_key.items else []
    sources += sorted((p for p in parts if p.items), key=lambda p: -len(p.items))
    return list(sources[0].items) if sources else []


def _forget_submission(gb: Gradebook, assignment: str, student: str) -> None:
    """Remove a stale submission (the student no longer hands this work in)."""
    try:
        gb.remove_submission(assignment, student)
    except MissingEntry:
        pass


def _set_scores(gb: Gradebook, assignment: str, notebook: str, student: str,
                scores: dict[str, float], timestamp=None) -> None:
    """Create or update a submission and set each grade cell's auto_score (missing: 0)."""
    extra = {"timestamp": timestamp} if timestamp else {}
    gb.update_or_create_submission(assignment, student, **extra)
    submitted = gb.find_submission_notebook(notebook, assignment, student)
    for grade in submitted.grades:
        grade.auto_score = float(scores.get(grade.cell.name, 0.0))
        grade.needs_manual_grade = False
    gb.db.commit()


def _lab_cell(item, result=None):
    """A code grade cell standing for one grader test; with ``result``, its outcome as output.

    The cell holds the test's name, points and hint, never the hidden test's source.
    """
    text = f"# {item.nodeid or item.name} ({item.max_points:g} points)\n# Hint: {item.hint or ''}"
    cell = nbformat.v4.new_code_cell(text)
    cell.metadata["nbgrader"] = {
        "grade": True, "grade_id": item_key(item), "locked": True, "points": item.max_points,
        "schema_version": 3, "solution": False, "task": False,
    }
    if result is not None:
        lines = [f"{result.outcome}: {result.points:g}/{result.max_points:g}"]
        if result.visible and result.message and not result.passed:
            lines.append(result.message)
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout",
                                               text="\n".join(lines) + "\n")]
    return cell


def _not_run(item):
    """A copy of a test result that did not run: no points."""
    missing = copy.copy(item)
    missing.points, missing.outcome, missing.message = 0.0, "not run", ""
    return missing


def _lab_notebook(items, results=None, error=None):
    """The lab as nbgrader sees it: one grade cell per test, outcomes when ``results`` given."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    intro = ("Results of the hidden lab graders, one cell per test. "
             "Scores are written by studyguide grade.")
    notebook.cells.append(nbformat.v4.new_markdown_cell(intro + (f"\n\n{error}" if error else "")))
    for item in items:
        result = None if results is None else results.get(item_key(item)) or _not_run(item)
        notebook.cells.append(_lab_cell(item, result))
    return notebook


def write_lab_notebooks(course_dir: Path, module_id: str, key_items, parts) -> None:
    """Write ``source/lab-<id>/lab.ipynb`` and each student's ``autograded/.../lab.ipynb``.

    The formgrader lists assignments from ``source/`` and opens the autograded notebook of a
    submission, so with these files it shows lab results beside the lesson notebooks.
    """
    name = lab_assignment(module_id)
    source = Path(course_dir) / "source" / name / f"{LAB_NOTEBOOK}.ipynb"
    source.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(_lab_notebook(key_items), source)
    for part in parts:
        if not part.submitted:
            continue
        results = {item_key(item): item for item in part.items}
        target = Path(course_dir) / "autograded" / part.student / name / f"{LAB_NOTEBOOK}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(_lab_notebook(key_items, results, part.error), target)


def record_labs(gb: Gradebook, course_dir: Path, module_id: str, answer_key, parts) -> None:
    """Write one module's lab results: the assignment, then one submission per handed-in lab."""
    key_items = lab_key_items(answer_key, parts)
    if not key_items:
        return
    ensure_lab_assignment(gb, module_id, {item_key(i): float(i.max_points) for i in key_items})
    name = lab_assignment(module_id)
    for part in parts:
        if not part.submitted:
            _forget_submission(gb, name, part.student)
            continue
        scores = {item_key(item): item.points for item in part.items}
        _set_scores(gb, name, LAB_NOTEBOOK, part.student, scores)
    write_lab_notebooks(course_dir, module_id, key_items, parts)


def _place_notebook(course_dir: Path, part, submitted: Path | None) -> datetime | None:
    """Copy the submitted and autograded notebook where nbgrader's formgrader looks for them."""
    module_id, student = part.module_id, part.student
    timestamp = None
    if submitted is not None:
        folder = course_dir / "submitted" / student / module_id
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(submitted, folder / f"{module_id}.ipynb")
        timestamp = datetime.fromtimestamp(submitted.stat().st_mtime, tz=UTC)
        (folder / "timestamp.txt").write_text(timestamp.strftime("%Y-%m-%d %H:%M:%S.%f %Z"))
    if part.artifact and Path(part.artifact).is_file():
        folder = course_dir / "autograded" / student / module_id
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(part.artifact, folder / f"{module_id}.ipynb")
    return timestamp


def record_notebooks(gb: Gradebook, course_dir: Path, module_id: str, parts, submitted) -> None:
    """Write one module's notebook grades (from nbgrader autograde) into the course gradebook.

    Does nothing when the gradebook has no such notebook assignment (nothing was released).
    """
    try:
        gb.find_assignment(module_id)
    except MissingEntry:
        return
    for part in parts:
        if not part.submitted or part.error:
            _forget_submission(gb, module_id, part.student)
            continue
        timestamp = _place_notebook(course_dir, part, submitted.get((part.student, module_id)))
        scores = {item.name: item.points for item in part.items}
        _set_scores(gb, module_id, module_id, part.student, scores, timestamp)


def record_class(course_dir: Path, report, answer_keys: dict, submitted: dict) -> Path:
    """Write every student's lab and notebook results into ``course_dir``'s gradebook.

    ``answer_keys`` maps module id to the reference solution's lab result (its tests are the
    grade cells); ``submitted`` maps (student, module) to the submitted notebook file.
    Returns the database file.
    """
    course_dir = Path(course_dir)
    with warnings.catch_warnings(), open_gradebook(course_dir) as gb:
        # nbgrader's add_submission trips SQLAlchemy autoflush warnings; they are harmless.
        warnings.simplefilter("ignore", SAWarning)
        for student in report.students:
            gb.update_or_create_student(student)
        for module_id in report.module_ids:
            rows = [row for row in report.results if row.module_id == module_id]
            record_labs(gb, course_dir, module_id, answer_keys.get(module_id),
                        [row.lab for row in rows])
            record_notebooks(gb, course_dir, module_id, [row.notebook for row in rows], submitted)
    return course_dir / DB_NAME


def lab_scores(course_dir: Path, module_id: str) -> dict[str, float]:
    """Each student's lab score for a module as the gradebook holds it (for checks and tests)."""
    with open_gradebook(course_dir) as gb:
        try:
            submissions = gb.assignment_submissions(lab_assignment(module_id))
        except MissingEntry:
            return {}
        return {sub.student.id: float(sub.score) for sub in submissions}
