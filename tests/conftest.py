"""Fixtures shared by several test files."""

import contextlib
import importlib.util
import io
import os
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEPLOYMENT_FIXTURES = REPO / "grading" / "07-deployment" / "conftest.py"


def load_deployment_fixtures():
    """The deployment graders' conftest as a module: its PostgreSQL server helpers."""
    spec = importlib.util.spec_from_file_location("deployment_fixtures", DEPLOYMENT_FIXTURES)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def postgres_server():
    """One PostgreSQL server per test file: yours (BOOKSHELF_TEST_POSTGRES_URL) or a throwaway
    one, started as the deployment graders start theirs."""
    fixtures = load_deployment_fixtures()
    external = os.environ.get(fixtures.EXTERNAL_SERVER_VARIABLE)
    if external:
        from psycopg.conninfo import conninfo_to_dict

        where = conninfo_to_dict(fixtures.to_libpq_url(external))
        yield fixtures.PostgresServer(external, where.get("host", "127.0.0.1"),
                                      int(where.get("port", 5432)))
        return
    with fixtures.throwaway_postgres() as server:
        yield server


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
