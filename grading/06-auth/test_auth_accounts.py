"""Hidden graders of lab 06: sign-up, log-in, log-out, who am I, and how passwords are kept."""

import re

import pytest
from werkzeug.security import check_password_hash

PROBLEM = "application/problem+json"
FAST_HASH = {"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}
# A cheap hash keeps the log-ins fast; the test of the stored hash asks for scrypt.
pytestmark = pytest.mark.app_config(**FAST_HASH)


def body(response):
    """The response body as text, for assertion messages."""
    return response.text


def assert_problem(response, status):
    """The response is a problem details document with this status."""
    assert response.status_code == status, body(response)
    assert response.mimetype == PROBLEM, (response.mimetype, body(response))
    problem = response.get_json()
    assert problem.get("status") == status, problem
    assert isinstance(problem.get("title"), str) and problem["title"], problem


def sign_up(client, username, password):
    """POST /auth/signup; the sign-up must succeed."""
    response = client.post("/auth/signup", json={"username": username, "password": password})
    assert response.status_code == 201, body(response)
    return response.get_json()


def log_in(client, username, password, **extra):
    """POST /auth/login and return the response."""
    return client.post("/auth/login", json={"username": username, "password": password, **extra})


def create_user(runner, name, password, role):
    """`flask create-user NAME --role ROLE`, typing the password twice."""
    return runner.invoke(
        args=["create-user", name, "--role", role], input=f"{password}\n{password}\n"
    )


@pytest.mark.grade(
    points=3,
    hint="POST /auth/signup answers 201 with {id, username, role: 'reader'}, a Location of "
    "/users/<id>, and logs the new user in (login_user).",
)
def test_signup_creates_a_logged_in_reader(client):
    response = client.post("/auth/signup", json={"username": "rita", "password": "rita-secret"})
    assert response.status_code == 201, body(response)
    user = response.get_json()
    assert user.get("username") == "rita" and user.get("role") == "reader", user
    assert isinstance(user.get("id"), int), user
    assert response.headers.get("Location", "").endswith(f"/users/{user['id']}"), response.headers
    me = client.get("/auth/me")
    assert me.status_code == 200, body(me)
    assert me.get_json() == user, body(me)


@pytest.mark.grade(
    points=2,
    hint="Sign-up takes only username and password: a 'role' in the body is an unknown field "
    "(422 naming it), and every new account is a reader.",
)
def test_signup_cannot_choose_a_role(client, database):
    response = client.post(
        "/auth/signup", json={"username": "slier", "password": "slier-pass", "role": "admin"}
    )
    assert_problem(response, 422)
    assert "role" in response.get_json().get("errors", {}), body(response)
    assert database.scalar("SELECT count(*) FROM users") == 0, "a refused sign-up stored a user"
    user = sign_up(client, "sly", "sly-password")
    assert user["role"] == "reader", user
    roles = database.rows("SELECT username, role FROM users ORDER BY id")
    assert roles == [{"username": "sly", "role": "reader"}], roles
    assert client.get("/users").status_code == 403, "a reader must not list the users"


@pytest.mark.grade(
    points=1,
    hint="Signing up with a username that exists is a 409 problem naming username "
    "(uq_users_username, answered by errors.py).",
)
def test_signup_with_a_taken_username_is_409(client, database):
    sign_up(client, "rita", "rita-secret")
    response = client.post("/auth/signup", json={"username": "rita", "password": "other-secret"})
    assert_problem(response, 409)
    assert "username" in response.get_json().get("errors", {}), body(response)
    assert database.scalar("SELECT count(*) FROM users WHERE username = 'rita'") == 1


@pytest.mark.grade(
    points=2,
    hint="POST /auth/login with the right password answers 200 with the user and starts a "
    "session: GET /auth/me then answers that user.",
)
def test_login_starts_a_session(client):
    user = sign_up(client, "rita", "rita-secret")
    client.post("/auth/logout")
    assert client.get("/auth/me").status_code == 401
    response = log_in(client, "rita", "rita-secret")
    assert response.status_code == 200, body(response)
    assert response.get_json() == user, body(response)
    assert client.get("/auth/me").get_json() == user


@pytest.mark.grade(
    points=2,
    hint="A wrong password and an unknown username get the very same 401 problem, so nobody "
    "can find out which usernames exist.",
)
def test_wrong_password_and_unknown_user_get_the_same_answer(client):
    sign_up(client, "rita", "rita-secret")
    client.post("/auth/logout")
    wrong_password = log_in(client, "rita", "not-her-secret")
    unknown_user = log_in(client, "nobody-at-all", "not-her-secret")
    assert_problem(wrong_password, 401)
    assert_problem(unknown_user, 401)
    assert wrong_password.get_json() == unknown_user.get_json(), (
        body(wrong_password),
        body(unknown_user),
    )
    assert client.get("/auth/me").status_code == 401, "a failed log-in must not log anyone in"


@pytest.mark.grade(
    points=1, hint="A user created without a password (by name only) can never log in: 401."
)
def test_user_without_password_cannot_log_in(client, call):
    call("crud.create_user", "nameonly")
    for password in ("", "nameonly", "None"):
        assert_problem(log_in(client, "nameonly", password), 401)


@pytest.mark.grade(
    points=1,
    hint="POST /auth/logout answers 204 with an empty body and ends the session (logout_user).",
)
def test_logout_ends_the_session(client):
    sign_up(client, "rita", "rita-secret")
    response = client.post("/auth/logout")
    assert response.status_code == 204 and response.data == b"", body(response)
    assert_problem(client.get("/auth/me"), 401)
    assert client.post("/auth/logout").status_code == 204, "logging out twice is fine"


@pytest.mark.grade(
    points=2,
    hint="GET /auth/me without a session is a 401 problem, not a redirect to a login page: "
    "register login_manager.unauthorized_handler.",
)
def test_me_without_a_session_is_a_401_problem(client):
    response = client.get("/auth/me")
    assert_problem(response, 401)
    assert "Location" not in response.headers, response.headers
    assert isinstance(response.get_json().get("type"), str), body(response)


@pytest.mark.grade(
    points=2,
    hint="Store generate_password_hash(password) (scrypt by default), never the password; "
    "size users.password_hash for ~162 characters (String(255)).",
)
@pytest.mark.app_config(PASSWORD_HASH_METHOD="scrypt")  # the default, not the cheap one
def test_passwords_are_stored_as_scrypt_hashes(client, database):
    password = "correct horse battery"
    sign_up(client, "rita", password)
    stored = database.scalar("SELECT password_hash FROM users WHERE username = 'rita'")
    assert stored and stored != password, stored
    assert stored.startswith("scrypt:"), f"expected Werkzeug's scrypt hash, got {stored[:20]!r}"
    assert check_password_hash(stored, password), "the stored hash does not match the password"
    assert password not in str(database.rows("SELECT * FROM users")), "plain password stored"
    declared = {c["name"]: c["type"] for c in database.columns("users")}["password_hash"]
    size = re.search(r"\((\d+)\)", declared)
    assert size is None or int(size.group(1)) >= 162, f"password_hash is {declared}: too short"


@pytest.mark.grade(
    points=2,
    hint="No response may hold a password or its hash: User.to_dict() shows id, username and "
    "role only.",
)
def test_no_response_holds_a_password_or_its_hash(client, runner, database):
    assert create_user(runner, "ada", "ada-runs-the-place", "admin").exit_code == 0
    signup = {"username": "rita", "password": "rita-pw-1"}
    responses = [client.post("/auth/signup", json=signup)]
    responses.append(client.get("/auth/me"))
    responses.append(client.post("/auth/logout"))
    responses.append(log_in(client, "ada", "ada-runs-the-place"))
    responses.append(client.get("/users"))
    rita_id = responses[0].get_json()["id"]
    responses.append(client.get(f"/users/{rita_id}"))
    responses.append(client.patch(f"/users/{rita_id}", json={"role": "librarian"}))
    assert [r.status_code for r in responses] == [201, 200, 204, 200, 200, 200, 200], [
        body(r) for r in responses
    ]
    hashes = [row["password_hash"] for row in database.rows("SELECT password_hash FROM users")]
    for response in responses:
        text = body(response)
        for secret in ("rita-pw-1", "ada-runs-the-place", *hashes):
            assert secret not in text, f"a response holds a password or hash: {text}"
        assert "password" not in text, f"a response names a password field: {text}"


@pytest.mark.grade(
    points=2,
    hint="`flask create-user NAME --role admin` asks for the password (twice, hidden) and "
    "creates a user who can log in with that role.",
)
def test_cli_creates_an_admin_who_can_log_in(client, runner, database):
    result = create_user(runner, "ada", "ada-runs-the-place", "admin")
    assert result.exit_code == 0, result.output
    assert "ada-runs-the-place" not in result.output, result.output
    row = database.one("SELECT role, password_hash FROM users WHERE username = 'ada'")
    assert row and row["role"] == "admin", row
    response = log_in(client, "ada", "ada-runs-the-place")
    assert response.status_code == 200 and response.get_json()["role"] == "admin", body(response)
    assert client.get("/users").status_code == 200


@pytest.mark.grade(
    points=1,
    hint="`flask create-user` refuses a taken name, a short password and an unknown role "
    "(non-zero exit code) and creates nobody then.",
)
def test_cli_refuses_bad_accounts(runner, database):
    assert create_user(runner, "libby", "libby-shelves", "librarian").exit_code == 0
    assert create_user(runner, "libby", "another-password", "admin").exit_code != 0
    assert create_user(runner, "shorty", "short", "reader").exit_code != 0
    assert create_user(runner, "king", "king-of-it-all", "king").exit_code != 0
    rows = database.rows("SELECT username, role FROM users")
    assert rows == [{"username": "libby", "role": "librarian"}], rows


@pytest.mark.grade(
    points=1,
    hint='"remember": true in the log-in body sets Flask-Login\'s remember_token cookie '
    "(login_user(user, remember=True)); without it there is none.",
)
def test_remember_me_sets_a_remember_cookie(client):
    sign_up(client, "rita", "rita-secret")
    client.post("/auth/logout")
    plain = log_in(client, "rita", "rita-secret")
    assert plain.status_code == 200, body(plain)
    assert not any(
        c.startswith("remember_token=") for c in plain.headers.getlist("Set-Cookie")
    ), plain.headers
    remembered = log_in(client, "rita", "rita-secret", remember=True)
    assert remembered.status_code == 200, body(remembered)
    cookies = remembered.headers.getlist("Set-Cookie")
    assert any(c.startswith("remember_token=") for c in cookies), cookies


@pytest.mark.grade(
    points=1,
    hint="User.set_password hashes with the method in app.config['PASSWORD_HASH_METHOD'] "
    "(generate_password_hash(password, method=...)), so tests can pick a cheap one.",
)
def test_password_hash_method_comes_from_the_configuration(client, database):
    sign_up(client, "rita", "rita-secret")
    stored = database.scalar("SELECT password_hash FROM users WHERE username = 'rita'")
    method = FAST_HASH["PASSWORD_HASH_METHOD"]
    assert stored and stored.startswith(f"{method}$"), f"expected a {method} hash: {stored[:30]!r}"
    assert check_password_hash(stored, "rita-secret"), "the stored hash does not match"
