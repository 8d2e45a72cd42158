"""Notebooks: code that changes how later cells run is not graded; the sandbox holds anyway.

The review cases are small notebooks checked statically. The sandbox case runs the real
``nbgrader autograde`` on the real lesson notebook 01 with a hostile first cell that leaves a
daemon behind (the review is switched off for it, to show the sandbox holds on its own): the run
ends on time, nothing it started is still running, nothing it wrote after its cell reaches the
output folder, and the honest classmate graded next gets exactly the solution's score.
"""

import os
import time
from pathlib import Path

import nbformat
import pytest

from studyguide.grading import notebook_jobs
from studyguide.grading.notebook_review import given_sources, review_notebook, review_reason

REPO = Path(__file__).resolve().parents[2]


def notebook_with(tmp_path, *sources):
    """A notebook file whose code cells are ``sources``."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    path = tmp_path / "student.ipynb"
    nbformat.write(notebook, path)
    return path


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("ip = get_ipython()\nip.input_transformers_post.append(lambda lines: [])",
         "uses get_ipython"),
        ("get_ipython().ast_transformers.append(object())", "uses .ast_transformers"),
        ("get_ipython().events.register('post_run_cell', print)", "uses .events"),
        ("get_ipython().set_custom_exc((Exception,), lambda *a: None)", "uses .set_custom_exc"),
        ("import sys\nsys.settrace(lambda *a: None)", "imports sys"),
        ("import builtins\nbuiltins.AssertionError = type('Quiet', (Exception,), {})",
         "imports builtins"),
        ("__builtins__.print = None", "uses __builtins__"),
        ("%load_ext some_extension", "uses get_ipython"),
        ("!sleep 100 &", "uses get_ipython"),
        ("import threading\nthreading.Thread(target=print, daemon=True).start()",
         "imports threading"),
        ("from flask import Flask\nFlask.test_client = None", "changes Flask (a library)"),
        ("import flask\nsetattr(flask.Flask, 'run', None)", "changes flask (a library)"),
        ("exec('x = 1')", "uses exec"),
        ("import gc\ngc.get_objects()", "imports gc"),
        ("(lambda: 0).__code__", "uses .__code__"),
        ("import os\nos.fork()", "imports os"),
    ],
)
def test_code_that_can_change_later_cells_is_found(tmp_path, source, found):
    reasons = review_notebook(notebook_with(tmp_path, "x = 1", source))
    assert len(reasons) == 1 and reasons[0].startswith("code cell ")
    assert found in reasons[0]
    assert review_reason(reasons).startswith(
        "not graded: the notebook holds code that can change how later cells (the hidden tests) "
        "run; the instructor will review it by hand. Found: code cell "
    )


def given_code(path, folder):
    """The code cells of a lesson that are not answers: what every student receives as is."""
    notebook = nbformat.read(path, as_version=4)
    notebook.cells = [
        c for c in notebook.cells if not c.metadata.get("nbgrader", {}).get("solution")
    ]
    given = folder / path.name
    nbformat.write(notebook, given)
    return given_sources(given)


def test_the_lesson_notebooks_answers_and_ordinary_model_code_are_not_flagged(tmp_path):
    # A student who writes the reference answers is graded, whatever the given cells import.
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        assert review_notebook(path, given_code(path, tmp_path)) == [], path
    ordinary = "book = object.__new__(type('B', (), {}))\nfor f in ('a',):\n    setattr(book, f, 1)"
    assert review_notebook(notebook_with(tmp_path, ordinary)) == []


def test_a_flagged_notebook_scores_zero_without_running(tmp_path):
    path = notebook_with(tmp_path, "import sys\nsys.setprofile(print)")
    result = notebook_jobs.grade_notebook(tmp_path / "no-course", "01-routing", "eve", path,
                                          tmp_path / "work", lambda s: tmp_path / f"{s}.ipynb")
    assert (result.score, result.items) == (0.0, [])
    assert result.error == review_reason(["code cell " + nbformat.read(
        path, as_version=4).cells[0].id + ": imports sys, uses .setprofile"])


DAEMON = """
import os, time
TARGETS = {targets!r}
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(4)
        for target in TARGETS:
            try:
                with open(target, "a") as handle:
                    handle.write("written later by a daemon")
            except OSError:
                pass
        time.sleep(600)
    os._exit(0)
"""


def _descendants(pid):
    """Every living process whose chain of parents leads to ``pid``."""
    parents = {}
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit():
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return sorted(found)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_daemon_left_by_a_notebook_changes_nothing(tmp_path, monkeypatch):
    if not (REPO / "notebooks" / "01-routing.ipynb").is_file():
        pytest.skip("the course has no lesson notebook 01")
    course_dir = notebook_jobs.ensure_nbgrader_course(REPO, tmp_path / "nbgrader", ["01-routing"])
    out = tmp_path / "graded"
    out.mkdir()
    grades = out / "grades.csv"
    grades.write_text("ann,8\n")
    solved = nbformat.read(REPO / "notebooks" / "01-routing.ipynb", as_version=4)
    targets = [str(grades), str(out / "results.json"), "/course/gradebook.db",
               "/course/autograded/mallory/01-routing/01-routing.ipynb"]
    solved.cells.insert(0, nbformat.v4.new_code_cell(DAEMON.format(targets=targets)))
    hostile = tmp_path / "mallory.ipynb"
    nbformat.write(solved, hostile)
    monkeypatch.setattr(notebook_jobs, "review_notebook", lambda *_: [])  # sandbox alone
    kept = tmp_path / "kept"
    started = time.monotonic()
    result = notebook_jobs.grade_notebook(course_dir, "01-routing", "mallory", hostile,
                                          tmp_path / "work", lambda s: kept / f"{s}.ipynb")
    assert time.monotonic() - started < 120 + 4 * notebook_jobs.NOTEBOOK_CELL_TIMEOUT
    assert result.error is None
    assert _descendants(os.getpid()) == []
    honest = notebook_jobs.grade_notebook(
        course_dir, "01-routing", "ann", REPO / "notebooks" / "01-routing.ipynb",
        tmp_path / "work", lambda s: kept / f"{s}.ipynb")
    time.sleep(6)  # longer than the daemon waited before writing
    assert grades.read_text() == "ann,8\n"
    assert not (out / "results.json").exists()
    assert (honest.score, honest.max_score, honest.error) == (8.0, 8.0, None)
    assert result.score == honest.score  # the hostile cell did not change its own grade either
    graded = Path(result.artifact).read_text()
    assert not graded.endswith("written later by a daemon")
    nbformat.validate(nbformat.reads(graded, as_version=4))  # nothing was appended to it
