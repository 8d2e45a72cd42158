"""Hidden graders of lab 06: who may call which endpoint, as a full matrix of exact statuses.

Every case starts from the same library: readers rita and otto, the librarian libby and the admin
ada; libby shelved two books by one author (and added a spare author without books); rita
reviewed the first book. Then one person (or nobody) sends one request.
"""

import pytest

PROBLEM = "application/problem+json"
# A cheap hash keeps the many log-ins of these tests fast; the accounts graders check scrypt.
pytestmark = pytest.mark.app_config(PASSWORD_HASH_METHOD="pbkdf2:sha256:1000")

PASSWORDS = {
    "rita": "rita-reads-a-lot",
    "otto": "otto-reads-too",
    "libby": "libby-shelves-books",
    "ada": "ada-runs-the-place",
}
# Who sends the request: the persona's name in the test id, and the account used.
PERSONAS = {
    "anonymous": None,
    "reader": "rita",
    "other reader": "otto",
    "librarian": "libby",
    "admin": "ada",
}
ORDER = tuple(PERSONAS)

# (method, URL, body, expected status for anonymous, reader, other reader, librarian, admin).
# The reader, rita, wrote the review and is the user the /users/<id> rows are about.
ENDPOINTS = [
    ("POST", "/authors", {"name": "Brand New Author"}, (401, 403, 403, 201, 201)),
    ("PATCH", "/authors/{author}", {"bio": "Edited."}, (401, 403, 403, 200, 200)),
    ("DELETE", "/authors/{spare_author}", None, (401, 403, 403, 204, 204)),
    ("POST", "/books", {"title": "Brand New Book", "author_id": "{author}"},
     (401, 403, 403, 201, 201)),
    ("PATCH", "/books/{book}", {"year": 2001}, (401, 403, 403, 200, 200)),
    ("DELETE", "/books/{book}", None, (401, 403, 403, 204, 204)),
    ("POST", "/reviews", {"book_id": "{fresh_book}", "rating": 5}, (401, 201, 201, 201, 201)),
    ("PATCH", "/reviews/{review}", {"rating": 2}, (401, 200, 403, 403, 403)),
    ("DELETE", "/reviews/{review}", None, (401, 204, 403, 403, 204)),
    ("GET", "/users", None, (401, 403, 403, 403, 200)),
    ("GET", "/users/{rita}", None, (401, 200, 403, 403, 200)),
    ("PATCH", "/users/{rita}", {"role": "librarian"}, (401, 403, 403, 403, 200)),
    ("DELETE", "/users/{rita}", None, (401, 403, 403, 403, 204)),
]

WHY = {
    401: "nobody is logged in: answer a 401 problem (login_required or role_required, and an "
    "unauthorized_handler that returns problem(401, ...) instead of a redirect)",
    403: "this user is logged in but not allowed: answer a 403 problem (abort(403))",
}


def hint_for(persona, method, url, status):
    """A hint a student can act on for one cell of the matrix."""
    where = f"{method} {url.replace('{', '<').replace('}', '>')}"
    if status in WHY:
        return f"{where} by the {persona}: {WHY[status]}."
    return f"{where} by the {persona} is allowed and must answer {status}."


def cases():
    """One pytest param per endpoint and persona, each with its points and hint."""
    for method, url, body, statuses in ENDPOINTS:
        for persona, status in zip(ORDER, statuses, strict=True):
            mark = pytest.mark.grade(points=1, hint=hint_for(persona, method, url, status))
            yield pytest.param(
                persona, method, url, body, status, marks=mark, id=f"{method} {url} as {persona}"
            )


def body(response):
    """The response body as text, for assertion messages."""
    return response.text


def create_user(runner, name, role):
    """Create an account with the CLI: `flask create-user NAME --role ROLE`."""
    password = PASSWORDS[name]
    result = runner.invoke(
        args=["create-user", name, "--role", role], input=f"{password}\n{password}\n"
    )
    assert result.exit_code == 0, f"flask create-user {name} --role {role}: {result.output}"


def sign_up(client, name):
    """Sign a reader up (which logs them in) and return their id."""
    response = client.post("/auth/signup", json={"username": name, "password": PASSWORDS[name]})
    assert response.status_code == 201, f"signup of {name}: {body(response)}"
    return response.get_json()["id"]


def log_in_as(client, name):
    """End any session, then log in as ``name`` (None: stay anonymous)."""
    response = client.post("/auth/logout")
    assert response.status_code == 204, f"logout: {body(response)}"
    if name is None:
        return
    response = client.post("/auth/login", json={"username": name, "password": PASSWORDS[name]})
    assert response.status_code == 200, f"login of {name}: {body(response)}"


def created_id(response, what):
    """The id of a row a setup request created."""
    assert response.status_code == 201, f"creating {what}: {body(response)}"
    return response.get_json()["id"]


def set_up_library(client, runner):
    """Create the people and the rows every case starts from; return their ids."""
    create_user(runner, "libby", "librarian")
    create_user(runner, "ada", "admin")
    ids = {"rita": sign_up(client, "rita"), "otto": sign_up(client, "otto")}
    log_in_as(client, "libby")
    ids["author"] = created_id(client.post("/authors", json={"name": "Kept Author"}), "author")
    ids["spare_author"] = created_id(
        client.post("/authors", json={"name": "Spare Author"}), "author"
    )
    for key, title in (("book", "Shelved"), ("fresh_book", "Unreviewed")):
        response = client.post("/books", json={"title": title, "author_id": ids["author"]})
        ids[key] = created_id(response, "book")
    log_in_as(client, "rita")
    response = client.post("/reviews", json={"book_id": ids["book"], "rating": 4, "body": "Good."})
    ids["review"] = created_id(response, "review")
    return ids


def fill(value, ids):
    """Replace "{name}" placeholders (in a URL or a body) by the ids of the library."""
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {key: fill(item, ids) for key, item in value.items()}
    return value


def snapshot(database):
    """Every row of the four tables: a refused request must leave them as they were."""
    return {
        table: database.rows(f"SELECT * FROM {table} ORDER BY id")
        for table in ("authors", "books", "reviews", "users")
    }


@pytest.mark.parametrize(("persona", "method", "url", "payload", "expected"), list(cases()))
def test_permission_matrix(client, runner, database, persona, method, url, payload, expected):
    ids = set_up_library(client, runner)
    log_in_as(client, PERSONAS[persona])
    before = snapshot(database)
    kwargs = {} if payload is None else {"json": fill(payload, ids)}
    response = client.open(fill(url, ids), method=method, **kwargs)
    assert response.status_code == expected, (
        f"{method} {fill(url, ids)} as the {persona}: expected {expected}, "
        f"got {response.status_code}: {body(response)}"
    )
    if expected in (401, 403):
        assert response.mimetype == PROBLEM, (response.mimetype, body(response))
        assert response.get_json().get("status") == expected, body(response)
        assert snapshot(database) == before, "a refused request must not change any row"
