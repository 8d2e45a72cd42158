"""Solutions 05 to 08 on a real PostgreSQL server: ids too big for INTEGER, and NUL characters.

SQLite stores 64-bit integers and any character, so the graders (which run on SQLite) cannot see
two ways PostgreSQL refuses a value: an id above 2**31 - 1 ("integer out of range") and a string
holding the NUL character ("cannot contain NUL"). Unchecked, both become a 500. The data rules of
lab 05 (validation.py) refuse them first; this test proves it on PostgreSQL for every solution
that carries those rules before the final app (which the fuzz run in test_final_app.py covers).

One throwaway PostgreSQL server serves the whole file (the deployment graders' own, from
grading/07-deployment/conftest.py, or the one BOOKSHELF_TEST_POSTGRES_URL names). Each solution
runs in its own Python process, as its own ``bookshelf`` package, with ``TESTING`` off (the
production error handling), on a new database, and answers a handful of requests through Flask's
test client. When PostgreSQL cannot be started, the test fails and says how to get it.

It is marked slow (``pytest -m slow tests/test_postgres_bad_input.py`` runs it).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SOLUTIONS = ["05-validations", "06-auth", "07-deployment", "08-marshmallow"]
# The first id PostgreSQL's INTEGER cannot hold.
TOO_BIG = 2**31
NUL = "before\x00after"
REQUEST_SECONDS = 120

# Runs inside the solution's folder: creates the app on the database given as argv[1], logs in
# an admin when the solution has accounts, sends each request of the JSON list on stdin and
# prints [status, body] for each one.
CLIENT_SCRIPT = r"""
import json, sys
from bookshelf import create_app

app = create_app({
    "TESTING": False,
    "SECRET_KEY": "postgres-bad-input",
    "SQLALCHEMY_DATABASE_URI": sys.argv[1],
    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
})
db = app.extensions["sqlalchemy"]
with app.app_context():
    db.create_all()
client = app.test_client()
if "/auth/login" in {rule.rule for rule in app.url_map.iter_rules()}:
    from bookshelf import crud
    with app.app_context():
        crud.create_user("admin", "admin-password", "admin")
    login = client.post("/auth/login", json={"username": "admin", "password": "admin-password"})
    assert login.status_code == 200, login.get_data(as_text=True)
answers = []
for method, url, body in json.load(sys.stdin):
    response = client.open(url, method=method, json=body)
    answers.append([response.status_code, response.get_data(as_text=True)])
with app.app_context():
    db.session.remove()
    db.engine.dispose()
print(json.dumps(answers))
"""






def run_requests(solution, database_url, requests):
    """Send ``requests`` ((method, url, body) each) to the solution; return [(status, body)]."""
    proc = subprocess.run(
        [sys.executable, "-c", CLIENT_SCRIPT, database_url],
        cwd=REPO / "solutions" / solution,
        input=json.dumps(requests),
        capture_output=True,
        text=True,
        timeout=REQUEST_SECONDS,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def review_body(solution, **fields):
    """A review body: lab 05 names its writer, from lab 06 on the writer is the logged-in user."""
    return {"username": "reader", **fields} if solution == "05-validations" else fields


@pytest.mark.slow  # a PostgreSQL server and four app processes: about 15 s on a quiet machine
@pytest.mark.parametrize("solution", SOLUTIONS)
def test_big_ids_and_nul_characters_are_client_errors_on_postgres(postgres_server, solution):
    url = postgres_server.create_database().replace("postgres://", "postgresql+psycopg://", 1)
    # (method, url, body, expected status, field a 422 must name)
    cases = [
        ("POST", "/books", {"title": "Kindred", "author": "Octavia E. Butler"}, 201, None),
        ("GET", f"/books/{TOO_BIG}", None, 404, None),
        ("PATCH", f"/books/{TOO_BIG}", {"title": "x"}, 404, None),
        ("DELETE", f"/authors/{TOO_BIG}", None, 404, None),
        ("GET", f"/reviews/{TOO_BIG * 8}", None, 404, None),
        ("POST", "/books", {"title": "T", "author_id": TOO_BIG}, 422, "author_id"),
        ("PATCH", "/books/1", {"author_id": TOO_BIG}, 422, "author_id"),
        ("POST", "/reviews", review_body(solution, book_id=TOO_BIG, rating=3), 422, "book_id"),
        ("GET", f"/reviews?book_id={TOO_BIG}", None, 200, None),
        ("GET", f"/books?limit={TOO_BIG}", None, 200, None),
        ("GET", "/books?q=a%00b", None, 400, None),
        ("POST", "/authors", {"name": NUL}, 422, "name"),
        ("POST", "/authors", {"name": "Ann", "bio": NUL}, 422, "bio"),
        ("PATCH", "/books/1", {"title": NUL}, 422, "title"),
        ("POST", "/books", {"title": "T", "author": "A", "isbn": "97804411\x0072719"}, 422, "isbn"),
        ("POST", "/reviews", review_body(solution, book_id=1, rating=3, body=NUL), 422, "body"),
        ("GET", "/books/1", None, 200, None),
    ]
    try:
        answers = run_requests(solution, url, [case[:3] for case in cases])
    finally:
        postgres_server.drop_database(url)
    wrong = [
        (method, path, body, got, text[:200])
        for (method, path, body, status, field), (got, text) in zip(cases, answers, strict=True)
        if got != status or (field is not None and field not in json.loads(text).get("errors", {}))
    ]
    assert not wrong, (solution, f"{len(wrong)} of {len(cases)} answers are wrong", wrong)
    title = json.loads(answers[-1][1])["title"]
    assert title == "Kindred", ("a refused PATCH changed the book", solution, title)
