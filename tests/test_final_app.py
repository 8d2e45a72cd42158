"""The final app (solutions/09-hateoas) against its own OpenAPI document, by property-based fuzzing.

schemathesis reads ``/openapi.json`` from the app, generates requests from it with Hypothesis
(valid bodies, odd strings, huge numbers, missing fields...) and sends each one twice: once as
nobody and once as a logged-in admin, who may call every endpoint. Every answer must be no
server error (5xx) and must match the document: a documented status, content type, headers and
body schema.

The app runs in this process through WSGI (no server), with ``TESTING`` off (the production
error handling), on a SQLite file, or on PostgreSQL when ``BOOKSHELF_TEST_DATABASE_URL`` names
one (``postgresql+psycopg://...``). The run is bounded: ``FUZZ_EXAMPLES`` examples per
operation (default 40).
"""

import os
import sys
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="pip install -e '.[dev]'")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.specs.openapi.checks import positive_data_acceptance  # noqa: E402

FINAL_APP = Path(__file__).resolve().parent.parent / "solutions" / "09-hateoas"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
ADMIN = ("fuzz-admin", "fuzz-admin-password")
# "A schema-valid request must not get a 4xx other than 401/403/404/409." The API answers 422 to
# well-formed bodies the data refuses (an author_id or book_id with no row behind it), and the
# document lists that 422; the other checks (status, content type, headers, body schema, no
# 5xx) all run.
SKIPPED_CHECKS = [positive_data_acceptance]

pytestmark = pytest.mark.slow


def final_app_factory():
    """``create_app`` of the final app; the package must not be another lab's bookshelf."""
    loaded = sys.modules.get("bookshelf")
    if loaded is not None and Path(loaded.__file__).resolve().parent.parent != FINAL_APP:
        pytest.fail(f"another bookshelf package is already imported: {loaded.__file__}")
    sys.path.insert(0, str(FINAL_APP))
    from bookshelf import create_app

    return create_app


def database_url(tmp_path):
    """PostgreSQL when BOOKSHELF_TEST_DATABASE_URL is set, else a SQLite file."""
    return os.environ.get("BOOKSHELF_TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'fuzz.sqlite'}"


def seed_library(app):
    """An admin to log in as, and a few rows so that ids 1 to 3 exist."""
    from bookshelf import crud

    with app.app_context():
        admin = crud.create_user(ADMIN[0], ADMIN[1], "admin")
        author = crud.create_author("Octavia E. Butler", "Science fiction.")
        for number, title in enumerate(("Kindred", "Dawn", "Wild Seed"), start=1):
            book = crud.create_book(title, author, 1970 + number)
            crud.add_review(admin, book, number, "Seeded.")


def session_cookie(app):
    """The Cookie header of a logged-in admin."""
    client = app.test_client()
    response = client.post("/auth/login", json={"username": ADMIN[0], "password": ADMIN[1]})
    assert response.status_code == 200, response.get_data(as_text=True)
    return f"session={client.get_cookie('session').value}"


@pytest.fixture(scope="module")
def final_app(tmp_path_factory):
    """The final app with production error handling, its tables and a seeded library."""
    create_app = final_app_factory()
    tmp_path = tmp_path_factory.mktemp("final-app")
    app = create_app(
        {
            "TESTING": False,
            "SECRET_KEY": "fuzzing",
            "SQLALCHEMY_DATABASE_URI": database_url(tmp_path),
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )
    db = app.extensions["sqlalchemy"]
    with app.app_context():
        db.drop_all()
        db.create_all()
    seed_library(app)
    yield app
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


@pytest.fixture(scope="module")
def admin_cookie(final_app):
    """The admin's session cookie, made once."""
    return session_cookie(final_app)


def fuzz_operation(operation, cookie):
    """Hypothesis-test one operation; return the failure report, or None."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def anonymous_and_admin(case):
        case.call_and_validate(excluded_checks=SKIPPED_CHECKS)
        case.call_and_validate(headers={"Cookie": cookie}, excluded_checks=SKIPPED_CHECKS)

    try:
        anonymous_and_admin()
    except Exception as failure:  # a failed check, with the request that caused it
        return f"{operation.label}: {failure}"
    return None


def test_the_final_app_keeps_its_openapi_document(final_app, admin_cookie):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", final_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20, [operation.label for operation in operations]
    failures = [fuzz_operation(operation, admin_cookie) for operation in operations]
    failures = [failure for failure in failures if failure]
    assert not failures, "\n\n".join(failures)


def test_openapi_document_lists_every_route_of_the_app(final_app):
    """Every URL rule of the app is in the document (so the fuzzing reaches all of them)."""
    document = final_app.test_client().get("/openapi.json").get_json()
    documented = {path.replace("{", "<").replace("}", ">") for path in document["paths"]}
    rules = {
        str(rule).replace("<int:", "<")
        for rule in final_app.url_map.iter_rules()
        if rule.endpoint not in ("static", "openapi")
    }
    assert rules == documented, f"missing {rules - documented}, extra {documented - rules}"
