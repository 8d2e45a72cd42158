"""One nbgrader gradebook for the whole course: notebook scores and lab scores side by side.

nbgrader's own ``autograde`` fills in the notebook assignments (named by module id). Labs are
written here through nbgrader's public API (:class:`nbgrader.api.Gradebook`) as assignments
``lab-<module id>`` holding one notebook ``lab`` whose grade cells are the hidden grader tests
(``max_score`` = the test's points). Each student's test results become the ``auto_score`` of
those cells, so ``nbgrader export`` lists labs and notebooks in one CSV and the formgrader
still opens the database.
"""

import os
import shutil
import sys
import warnings
from datetime import UTC, datetime
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning

LAB_NOTEBOOK = "lab"
DEFAULT_COURSE_ID = "flask-study-guide"
DB_NAME = "gradebook.db"


def lab_assignment(module_id: str) -> str:
    """The gradebook name of a module's lab assignment."""
    return f"lab-{module_id}"


def item_key(item) -> str:
    """The grade cell name of a lab test: its pytest node id (unique within the lab)."""
    return item.nodeid or item.name


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


def lab_cells(answer_key, parts) -> dict[str, float]:
    """The grade cells of a lab: the tests the reference solution ran, else any student's."""
    sources = [answer_key] if answer_key is not None and answer_key.items else []
    sources += sorted((p for p in parts if p.items), key=lambda p: -len(p.items))
    for part in sources[:1]:
        return {item_key(item): float(item.max_points) for item in part.items}
    return {}


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


def record_labs(gb: Gradebook, module_id: str, answer_key, parts) -> None:
    """Write one module's lab results: the assignment, then one submission per handed-in lab."""
    cells = lab_cells(answer_key, parts)
    if not cells:
        return
    ensure_lab_assignment(gb, module_id, cells)
    name = lab_assignment(module_id)
    for part in parts:
        if not part.submitted:
            _forget_submission(gb, name, part.student)
            continue
        scores = {item_key(item): item.points for item in part.items}
        _set_scores(gb, name, LAB_NOTEBOOK, part.student, scores)


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
            record_labs(gb, module_id, answer_keys.get(module_id), [row.lab for row in rows])
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
