"""Hidden graders of lab 06: production cookies, bad input to the auth endpoints, and the rules
around accounts (the writer of a review, an admin's own account, LOGIN_DISABLED)."""

import pytest

PROBLEM = "application/problem+json"
FAST_HASH = {"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}
pytestmark = pytest.mark.app_config(**FAST_HASH)

ADMIN_PASSWORD = "ada-runs-the-place"
# Bodies no auth endpoint may accept; each must get a 4xx problem, never a 500.
BAD_CREDENTIALS = [
    {},
    {"username": "rita"},
    {"password": "long-enough-secret"},
    {"username": "", "password": "long-enough-secret"},
    {"username": "   ", "password": "long-enough-secret"},
    {"username": "rita", "password": ""},
    {"username": None, "password": "long-enough-secret"},
    {"username": "rita", "password": None},
    {"username": 12, "password": "long-enough-secret"},
    {"username": 10**30, "password": "long-enough-secret"},
    {"username": "rita", "password": 10**30},
    {"username": "rita", "password": 12345678},
    {"username": ["rita"], "password": "long-enough-secret"},
    {"username": "rita", "password": {"value": "long-enough-secret"}},
    {"username": True, "password": True},
    {"name": "rita", "pass": "long-enough-secret"},
]


def body(response):
    """The response body as text, for assertion messages."""
    return response.text


def assert_problem(response, statuses, what=""):
    """The response is a problem details document with one of these statuses."""
    statuses = (statuses,) if isinstance(statuses, int) else statuses
    assert response.status_code in statuses, (what, response.status_code, body(response))
    assert response.mimetype == PROBLEM, (what, response.mimetype, body(response))
    assert response.get_json().get("status") == response.status_code, (what, body(response))


def assert_rejects_bad_bodies(client, url, bodies):
    """Every malformed or invalid body sent to ``url`` gets a 400, 415 or 422 problem."""
    assert_problem(
        client.post(url, data='{"username": ', content_type="application/json"), 400, "broken"
    )
    assert_problem(client.post(url, data={"username": "rita"}), 415, "a form")
    assert_problem(client.post(url, data="username=rita", content_type="text/plain"), 415, "text")
    for payload in (["rita", "secret"], "rita", 12):
        assert_problem(client.post(url, json=payload), (400, 422), payload)
    assert_problem(client.post(url, data="null", content_type="application/json"), (400, 422))
    for payload in bodies:
        assert_problem(client.post(url, json=payload), 422, payload)


def create_admin(runner, name="ada"):
    """`flask create-user ada --role admin`."""
    result = runner.invoke(
        args=["create-user", name, "--role", "admin"], input=f"{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output


def log_in(client, username, password):
    """Log in; the log-in must succeed."""
    client.post("/auth/logout")
    response = client.post("/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, body(response)
    return response.get_json()


def cookie_named(response, name):
    """The Set-Cookie header of the cookie ``name``, split into lower-case attributes."""
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            return [part.strip().lower() for part in header.split(";")]
    raise AssertionError(f"no {name} cookie in {response.headers.getlist('Set-Cookie')}")


@pytest.mark.grade(
    points=2,
    hint="Outside tests (TESTING=False) set SESSION_COOKIE_SECURE/HTTPONLY/SAMESITE='Lax' and "
    "the same REMEMBER_COOKIE_* settings.",
)
@pytest.mark.app_config(TESTING=False, SECRET_KEY="a long production-like secret", **FAST_HASH)
def test_cookies_are_secure_in_production(client):
    signed_up = client.post("/auth/signup", json={"username": "rita", "password": "rita-secret"})
    assert signed_up.status_code == 201, body(signed_up)
    client.post("/auth/logout")
    response = client.post(
        "/auth/login", json={"username": "rita", "password": "rita-secret", "remember": True}
    )
    assert response.status_code == 200, body(response)
    for name in ("session", "remember_token"):
        attributes = cookie_named(response, name)
        assert "secure" in attributes, (name, attributes)
        assert "httponly" in attributes, (name, attributes)
        assert "samesite=lax" in attributes or "samesite=strict" in attributes, (name, attributes)


@pytest.mark.grade(
    points=2,
    hint="POST /auth/signup answers broken JSON 400, a body that is not JSON 415, and missing, "
    "empty, unknown, wrongly typed or huge fields 422 problems; it stores nobody until then.",
)
def test_signup_rejects_bad_input(client, database):
    more = [
        {"username": "rita", "password": "short"},
        {"username": "rita", "password": "x" * 129},
        {"username": "r" * 81, "password": "long-enough-secret"},
        {"username": "rita", "password": "long-enough-secret", "favourite": "an unknown field"},
    ]
    assert_rejects_bad_bodies(client, "/auth/signup", BAD_CREDENTIALS + more)
    assert database.scalar("SELECT count(*) FROM users") == 0, "a rejected sign-up stored a user"
    response = client.post(
        "/auth/signup", json={"username": "rita", "password": "long-enough-secret"}
    )
    assert response.status_code == 201, body(response)


@pytest.mark.grade(
    points=2,
    hint="POST /auth/login answers broken JSON 400, not JSON 415, missing, unknown or wrongly "
    "typed fields (and a 'remember' that is not true/false) 422 problems; never a 500.",
)
def test_login_rejects_bad_input(client):
    created = client.post(
        "/auth/signup", json={"username": "rita", "password": "long-enough-secret"}
    )
    assert created.status_code == 201, body(created)
    client.post("/auth/logout")
    typed_wrong = [
        item
        for item in BAD_CREDENTIALS
        if not any(value in ("", "   ") for value in item.values())
        and item.get("password") != ""
    ]
    typed_wrong += [
        {"username": "rita", "password": "long-enough-secret", "remember": "yes"},
        {"username": "rita", "password": "long-enough-secret", "remember": 1},
        {"username": "rita", "password": "long-enough-secret", "role": "admin"},
    ]
    assert_rejects_bad_bodies(client, "/auth/login", typed_wrong)
    assert client.get("/auth/me").status_code == 401, "a rejected log-in logged someone in"
    log_in(client, "rita", "long-enough-secret")


@pytest.mark.grade(
    points=1,
    hint="Wrong methods on the auth and users URLs are 405 problems with an Allow header; the "
    "endpoints themselves still work (log-out ignores any body).",
)
def test_wrong_methods_on_auth_urls_are_405(client):
    for method, url in (
        ("GET", "/auth/signup"),
        ("PUT", "/auth/login"),
        ("GET", "/auth/logout"),
        ("POST", "/auth/me"),
        ("DELETE", "/auth/me"),
        ("POST", "/users/1"),
        ("PUT", "/users/1"),
        ("DELETE", "/users"),
    ):
        response = client.open(url, method=method)
        assert_problem(response, 405, f"{method} {url}")
        assert response.headers.get("Allow"), (method, url, response.headers)
    created = client.post("/auth/signup", json={"username": "rita", "password": "rita-secret"})
    assert created.status_code == 201, body(created)
    assert client.get("/auth/me", query_string={"id": "1' OR 1=1"}).status_code == 200
    # Log-out reads no body, so even a broken one cannot make it fail.
    broken = client.post("/auth/logout", data='{"bye": ', content_type="application/json")
    assert broken.status_code == 204, body(broken)
    assert_problem(client.get("/auth/me"), 401)


@pytest.mark.grade(
    points=1,
    hint="PATCH /users/<id> takes only {\"role\": \"reader\"|\"librarian\"|\"admin\"}; anything "
    "else is a 400/415/422 problem and an unknown id a 404; the user is left unchanged.",
)
def test_role_changes_reject_bad_input(client, runner, database):
    create_admin(runner)
    rita = client.post("/auth/signup", json={"username": "rita", "password": "rita-secret"})
    rita_id = rita.get_json()["id"]
    log_in(client, "ada", ADMIN_PASSWORD)
    url = f"/users/{rita_id}"
    assert_problem(client.patch(url, data='{"role": ', content_type="application/json"), 400)
    assert_problem(client.patch(url, data="role=admin", content_type="text/plain"), 415)
    for role in ("superuser", "", "ADMIN", None, 5, 10**30, True, ["admin"], {"name": "admin"}):
        response = client.patch(url, json={"role": role})
        assert_problem(response, 422, role)
        assert "role" in response.get_json().get("errors", {}), (role, body(response))
    assert_problem(client.patch(url, json={"role": "admin", "password": "new-secret"}), 422)
    assert_problem(client.patch(url, json=["role", "admin"]), (400, 422))
    assert_problem(client.patch("/users/4040", json={"role": "reader"}), 404)
    assert_problem(client.get("/users/99999999999999999999999"), 404)
    assert database.scalar("SELECT role FROM users WHERE id = ?", (rita_id,)) == "reader"
    changed = client.patch(url, json={"role": "librarian"})
    assert changed.status_code == 200 and changed.get_json()["role"] == "librarian", body(changed)
    assert changed.get_json()["username"] == "rita", body(changed)


@pytest.mark.grade(
    points=1,
    hint="An admin may not change their own role or delete their own account: 409 problem "
    "(the last admin would lock everyone out).",
)
def test_admin_cannot_demote_or_delete_themselves(client, runner, database):
    create_admin(runner)
    ada = log_in(client, "ada", ADMIN_PASSWORD)
    assert_problem(client.patch(f"/users/{ada['id']}", json={"role": "reader"}), 409)
    assert_problem(client.delete(f"/users/{ada['id']}"), 409)
    assert database.scalar("SELECT role FROM users WHERE username = 'ada'") == "admin"
    same = client.patch(f"/users/{ada['id']}", json={"role": "admin"})
    assert same.status_code == 200, body(same)


@pytest.mark.grade(
    points=2,
    hint="The writer of a new review is the logged-in user (current_user); a 'username' in "
    "the body is then an unknown field (422), so nobody writes in someone else's name; "
    "book_id and rating stay required (422 naming the missing one).",
)
def test_review_writer_is_the_logged_in_user(client, runner, database):
    create_admin(runner)
    for name in ("otto", "rita"):  # rita signs up last, so she stays logged in
        created = client.post("/auth/signup", json={"username": name, "password": f"{name}-pw-1"})
        assert created.status_code == 201, body(created)
    log_in(client, "ada", ADMIN_PASSWORD)
    author = client.post("/authors", json={"name": "Some Author"}).get_json()
    book = client.post("/books", json={"title": "Some Book", "author_id": author["id"]}).get_json()
    log_in(client, "rita", "rita-pw-1")
    impostor = client.post(
        "/reviews", json={"book_id": book["id"], "rating": 3, "username": "otto"}
    )
    assert_problem(impostor, 422)
    assert "username" in impostor.get_json().get("errors", {}), body(impostor)
    for missing, sent in (("book_id", {"rating": 3}), ("rating", {"book_id": book["id"]})):
        incomplete = client.post("/reviews", json=sent)
        assert_problem(incomplete, 422)
        assert missing in incomplete.get_json().get("errors", {}), body(incomplete)
    assert database.scalar("SELECT count(*) FROM reviews") == 0, "a refused review was stored"
    response = client.post("/reviews", json={"book_id": book["id"], "rating": 3})
    assert response.status_code == 201, body(response)
    assert response.get_json()["username"] == "rita", body(response)
    writer = database.scalar(
        "SELECT users.username FROM reviews JOIN users ON users.id = reviews.user_id"
    )
    assert writer == "rita", writer


@pytest.mark.grade(
    points=1,
    hint="Deleting a user (admin) deletes their reviews, and their old session no longer logs "
    "them in: the user_loader returns None for a missing user.",
)
def test_deleted_user_loses_reviews_and_session(client, runner, database):
    create_admin(runner)
    log_in(client, "ada", ADMIN_PASSWORD)
    author = client.post("/authors", json={"name": "An Author"}).get_json()
    book = client.post("/books", json={"title": "A Book", "author_id": author["id"]}).get_json()
    rita = client.post("/auth/signup", json={"username": "rita", "password": "rita-pw-1"})
    assert rita.status_code == 201, body(rita)
    review = client.post("/reviews", json={"book_id": book["id"], "rating": 2})
    assert review.status_code == 201, body(review)
    log_in(client, "ada", ADMIN_PASSWORD)
    deleted = client.delete(f"/users/{rita.get_json()['id']}")
    assert deleted.status_code == 204 and deleted.data == b"", body(deleted)
    assert database.scalar("SELECT count(*) FROM reviews") == 0
    assert_problem(client.get(f"/users/{rita.get_json()['id']}"), 404)
    assert_problem(client.post("/auth/login", json={"username": "rita", "password": "rita-pw-1"}),
                   401)


@pytest.mark.grade(
    points=1,
    hint="With LOGIN_DISABLED=True every role and ownership check lets the request through "
    "(as login_required does), while GET /auth/me still answers 401 for nobody.",
)
@pytest.mark.app_config(LOGIN_DISABLED=True, **FAST_HASH)
def test_login_disabled_lets_every_request_through(client):
    author = client.post("/authors", json={"name": "Open Author"})
    assert author.status_code == 201, body(author)
    book = client.post("/books", json={"title": "Open Book", "author_id": author.get_json()["id"]})
    assert book.status_code == 201, body(book)
    review = client.post(
        "/reviews", json={"book_id": book.get_json()["id"], "username": "anyone", "rating": 4}
    )
    assert review.status_code == 201, body(review)
    review_url = f"/reviews/{review.get_json()['id']}"
    assert client.patch(review_url, json={"rating": 5}).status_code == 200
    assert client.get("/users").status_code == 200
    assert_problem(client.get("/auth/me"), 401)
    assert client.delete(review_url).status_code == 204


@pytest.mark.grade(
    points=2,
    hint="With TESTING=False (production) 401 and 403 stay problem details: the decorators "
    "run inside Flask-RESTful resources, whose errors must still reach errors.py.",
)
@pytest.mark.app_config(TESTING=False, SECRET_KEY="a long production-like secret", **FAST_HASH)
def test_401_and_403_are_problems_in_production(client, runner):
    create_admin(runner)
    assert_problem(client.post("/authors", json={"name": "Nobody's Author"}), 401)
    assert_problem(client.get("/users"), 401)
    rita = client.post("/auth/signup", json={"username": "rita", "password": "rita-secret"})
    assert rita.status_code == 201, body(rita)
    assert_problem(client.post("/authors", json={"name": "Rita's Author"}), 403)
    assert_problem(client.patch("/users/1", json={"role": "reader"}), 403)
    assert_problem(client.get("/users/1"), 403)
    log_in(client, "ada", ADMIN_PASSWORD)
    for payload in ({"name": ""}, {"name": 10**30}, {"name": "Fine", "extra": 1}):
        assert_problem(client.post("/authors", json=payload), 422, payload)
    assert_problem(client.post("/authors", data="{", content_type="application/json"), 400)
    assert client.post("/authors", json={"name": "Shelved"}).status_code == 201
