"""Fixtures for the grading runner's tests: a small fixture course and submission builders.

The fixture course (``hostile/course``, plus the real ``grading/conftest.py``) has two available
modules: ``01-hello`` (graders worth
2 + 1 points, the second retired by 02) and ``02-tally`` (2 visible + 1 + 1 points). Lab 02 is
therefore worth 6 points; its skeleton earns the 2 points of the 01 grader it still passes.
"""

import hashlib
import shutil
import textwrap
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
FIXTURE_COURSE = HERE / "hostile" / "course"
REAL_CONFTEST = HERE.parents[1] / "grading" / "conftest.py"

# The fixture course's graders must not run as tests of the course tool.
collect_ignore = ["hostile"]


def _tree_digest(folder):
    """A hash of every file's path and bytes under ``folder``, to prove nothing changed."""
    digest = hashlib.sha256()
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


@pytest.fixture
def tree_digest():
    """A function hashing every file under a folder, to prove that nothing changed."""
    return _tree_digest


@pytest.fixture(scope="session")
def course(tmp_path_factory):
    """A private copy of the fixture course with the real grader fixtures (the course's
    ``grading/conftest.py``); its digest is checked again at the end."""
    root = tmp_path_factory.mktemp("course") / "course"
    shutil.copytree(FIXTURE_COURSE, root)
    shutil.copyfile(REAL_CONFTEST, root / "grading" / "conftest.py")
    before = _tree_digest(root)
    yield root
    assert _tree_digest(root) == before, "grading changed the instructor's course"


@pytest.fixture
def make_lab(tmp_path, course):
    """Build a submission of lab 02 from the fixture ``solution`` or ``skeleton``.

    ``files`` maps paths inside the lab to their (dedented) text; ``remove`` lists paths to
    delete. Returns the lab folder.
    """
    count = 0

    def build(base="skeleton", files=None, remove=()):
        nonlocal count
        count += 1
        source = course / ("solutions" if base == "solution" else "labs") / "02-tally"
        lab = tmp_path / f"student-{count}" / "labs" / "02-tally"
        shutil.copytree(source, lab)
        for relative, text in (files or {}).items():
            path = lab / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        for relative in remove:
            path = lab / relative
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        return lab

    return build
