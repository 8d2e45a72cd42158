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

The last test runs the final app as Render does, under gunicorn with the Blueprint's two worker
processes on PostgreSQL, and checks that each worker's page cache never serves a list older than
a write made through either worker.
"""

import contextlib
import http.client
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import yaml

schemathesis = pytest.importorskip("schemathesis", reason="pip install -e '.[dev]'")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.specs.openapi.checks import positive_data_acceptance  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
FINAL_APP = REPO / "solutions" / "09-hateoas"
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


# --- two gunicorn workers, one database -------------------------------------------------------

LIST = "/books?per_page=100"
LIBRARIAN = ("libby", "libby-password-1")
# Fresh connections a test may open to reach both workers: each lands on one at random.
MAX_TRIES = 400




def flask_command(args, env):
    """Run ``flask --app bookshelf ...`` in the final app's folder, as Render's build does."""
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "bookshelf", *args],
                            cwd=FINAL_APP, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


@contextlib.contextmanager
def blueprint_gunicorn(env, log_path):
    """gunicorn with the options of the Blueprint's startCommand on a loopback port; yields
    (port, the pids of its workers)."""
    [service] = yaml.safe_load((REPO / "render.yaml").read_text())["services"]
    options = [word for word in shlex.split(service["startCommand"])[1:] if word != "wsgi:app"]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "gunicorn", *options, "--bind", f"127.0.0.1:{port}",
               "wsgi:app"]
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, cwd=FINAL_APP, env=env, start_new_session=True,
                                  stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.monotonic() + 60
        workers = []
        while len(workers) < 2 or request("GET", port, "/healthz")[1] != 200:
            assert server.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.3)
            workers = [child.pid for child in psutil.Process(server.pid).children()]
        yield port, workers
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)


def request(method, port, path, body=None, cookie=None):
    """One request on a new connection: (pid of the process that answered, status, headers,
    body). The pid is found from outside, by who holds the server end of the connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if cookie:
        headers["Cookie"] = cookie
    try:
        connection.request(method, path, body=json.dumps(body) if body is not None else None,
                           headers=headers)
        response = connection.getresponse()
        data = response.read()
        client_port = connection.sock.getsockname()[1]
        return answering_pid(port, client_port), response.status, response.headers, data
    except (ConnectionError, OSError):
        return None, None, None, b""
    finally:
        connection.close()


def answering_pid(server_port, client_port):
    """The pid of the process whose socket is connected from ``client_port`` to ``server_port``."""
    for connection in psutil.net_connections(kind="tcp4"):
        if (connection.laddr and connection.raddr and connection.laddr.port == server_port
                and connection.raddr.port == client_port):
            return connection.pid
    return None


def list_from_every_worker(port, workers, cookie=None):
    """GET the list on new connections until each worker has answered; {pid: [titles...]}."""
    seen = {}
    for _ in range(MAX_TRIES):
        pid, status, _, data = request("GET", port, LIST, cookie=cookie)
        assert status == 200, data
        if pid in workers:
            titles = [book["title"] for book in json.loads(data)]
            # A worker may answer more than once: every answer counts.
            seen.setdefault(pid, []).append(titles)
        if len(seen) == len(workers):
            return seen
    pytest.fail(f"only workers {sorted(seen)} of {workers} answered {MAX_TRIES} connections")


def test_two_gunicorn_workers_never_serve_a_stale_list(postgres_server, tmp_path):
    url = postgres_server.create_database()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "two-workers",
           "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        flask_command(["db", "upgrade"], env)
        flask_command(["create-user", LIBRARIAN[0], "--role", "librarian",
                       "--password", LIBRARIAN[1]], env)
        with blueprint_gunicorn(env, tmp_path / "gunicorn.log") as (port, workers):
            _, status, headers, data = request(
                "POST", port, "/auth/login", {"username": LIBRARIAN[0], "password": LIBRARIAN[1]}
            )
            assert status == 200, data
            cookie = headers["Set-Cookie"].split(";", 1)[0]
            # Both workers keep the empty list, for nobody and for the librarian...
            for caller in (None, cookie):
                for answers in list_from_every_worker(port, workers, caller).values():
                    assert answers[0] == [], answers
            # ...then writes reach the list of both, whichever worker took the write.
            changes = [
                ("POST", "/books", {"title": "Kindred", "author": "Octavia E. Butler"}, "Kindred"),
                ("PATCH", "/books/1", {"title": "Kindred (1979)"}, "Kindred (1979)"),
                ("POST", "/books", {"title": "Dawn", "author_id": 1}, "Dawn"),
            ]
            for method, path, body, title in changes:
                _, status, _, data = request(method, port, path, body, cookie)
                assert status in (200, 201), data
                for caller in (None, cookie):
                    for pid, answers in list_from_every_worker(port, workers, caller).items():
                        stale = [titles for titles in answers if title not in titles]
                        assert not stale, f"worker {pid} served a list without {title!r}: {stale}"
    finally:
        postgres_server.drop_database(url)
