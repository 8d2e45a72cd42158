"""Fixtures shared by several test files."""

import contextlib
import io
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def built_student_edition():
    """(folder, what the command printed): the student edition of modules 01 and 02.

    Built once per test session by the command line, as an instructor builds it; tests that
    change it work on a copy.
    """
    from studyguide import cli

    with tempfile.TemporaryDirectory(prefix="studyguide-edition-") as tmp:
        out = Path(tmp) / "student"
        said = io.StringIO()
        with contextlib.redirect_stdout(said):
            assert cli.main(["--root", str(REPO), "release", str(out), "01", "02"]) == 0
        yield out, said.getvalue()
