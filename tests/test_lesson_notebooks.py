"""Every available lesson notebook runs top to bottom, and its released version fails until solved.

This is the notebook part of `studyguide check` (real kernels, the real `nbgrader
generate_assignment` and `nbgrader validate`), run on every change. It has a file of its own so
that a parallel test run gives it a worker of its own.
"""

from pathlib import Path

from studyguide.manifest import load_course
from studyguide.notebooks import check_notebooks

REPO = Path(__file__).resolve().parent.parent


def test_every_available_notebook_runs_and_its_release_fails_until_solved(tmp_path):
    modules = [module.id for module in load_course(REPO).available]
    assert len(modules) == 9
    assert check_notebooks(REPO, modules, workdir=tmp_path / "nbgrader") == []
