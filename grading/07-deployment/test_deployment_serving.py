"""The app under gunicorn, over real HTTP, on PostgreSQL: as Render runs it.

``served_app`` is the lab migrated onto a new PostgreSQL database with ``flask db upgrade`` and
served by ``gunicorn wsgi:app`` with only ``DATABASE_URL`` (a ``postgres://`` URL, as Render
writes it) and ``SECRET_KEY`` in its environment.
"""

import json
import socket
import urllib.error
import urllib.request

import pytest

SECRET = "a-long-random-value-for-the-deployment-graders"


def post_json(served, path, body):
    """A real HTTP POST with a JSON body; returns (status, headers, body text)."""
    request = urllib.request.Request(
        served.url + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def unreachable_database():
    """A PostgreSQL URL on a loopback port nobody listens on: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"postgres://bookshelf@127.0.0.1:{port}/bookshelf"


@pytest.mark.grade(
    points=3,
    hint="GET /healthz runs SELECT 1 on the database and answers 200 {\"status\": \"ok\"}; "
    "wsgi.py must give gunicorn `app = create_app()`.",
)
def test_health_check_answers_ok_under_gunicorn_on_postgres(served_app):
    status, headers, body = served_app.get("/healthz")
    assert status == 200, f"GET /healthz answered {status}: {body}\n{served_app.output()}"
    assert json.loads(body) == {"status": "ok"}, body
    assert headers.get_content_type() == "application/json", headers


@pytest.mark.grade(
    points=2,
    hint="DATABASE_URL from the environment (postgres://..., as Render writes it) must be the "
    "database the served app writes to.",
)
def test_served_app_stores_data_in_the_database_of_database_url(served_app, postgres):
    status, headers, body = post_json(
        served_app, "/auth/signup", {"username": "render-reader", "password": "correct horse"}
    )
    assert status == 201, f"POST /auth/signup answered {status}: {body}\n{served_app.output()}"
    rows = postgres.rows(
        served_app.database_url, "SELECT username FROM users WHERE username = 'render-reader'"
    )
    assert rows == [("render-reader",)], "the new user is not in the PostgreSQL database"


@pytest.mark.grade(
    points=3,
    hint="When SELECT 1 raises SQLAlchemyError, /healthz must roll back and answer a 503 "
    "problem (application/problem+json), never a 500, so Render knows the instance is sick.",
)
def test_health_check_answers_503_when_the_database_is_unreachable(serve):
    served, failure = serve(DATABASE_URL=unreachable_database(), SECRET_KEY=SECRET)
    assert served is not None, f"the app must start even when the database is down:\n{failure}"
    for _ in range(2):  # the app keeps answering: one failed check does not break the next
        status, headers, body = served.get("/healthz")
        assert status == 503, f"GET /healthz answered {status}: {body}\n{served.output()}"
        assert headers.get_content_type() == "application/problem+json", headers
        assert json.loads(body)["status"] == 503, body


@pytest.mark.grade(
    points=2,
    hint="Outside debug and testing the app logs to standard output (Render shows it in Logs): "
    "a failed health check logs an ERROR line there, not on standard error.",
)
def test_failed_health_check_is_logged_to_standard_output(serve):
    served, failure = serve(DATABASE_URL=unreachable_database(), SECRET_KEY=SECRET)
    assert served is not None, f"the app did not start:\n{failure}"
    served.get("/healthz")
    lines = [line for line in served.stdout().splitlines() if "ERROR" in line]
    assert lines, f"no ERROR line on standard output:\n{served.output()}"


@pytest.mark.grade(
    points=2,
    hint="Serve bookshelf/static/index.html at /app/ (current_app.send_static_file); the page "
    "loads /static/app.js, and / stays the JSON API root.",
)
def test_front_end_page_is_served_at_app(served_app):
    status, headers, body = served_app.get("/app/")
    assert status == 200, f"GET /app/ answered {status}: {body[:500]}"
    assert headers.get_content_type() == "text/html", headers
    assert '<script src="/static/app.js"' in body, body[:1000]
    status, headers, script = served_app.get("/static/app.js")
    assert status == 200 and "fetch(" in script, f"GET /static/app.js answered {status}"
    status, headers, root = served_app.get("/")
    assert status == 200 and headers.get_content_type() == "application/json", root[:300]
