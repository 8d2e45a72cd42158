"""Visible tests of lab 06: accounts, sessions, roles, 401 and 403."""

import pytest
from bookshelf import create_app
from bookshelf.db import db
from bookshelf.models import User
from sqlalchemy import select

PROBLEM = "application/problem+json"


def body(response):
    """The response body as text, for assertion messages."""
    return response.get_data(as_text=True)


@pytest.mark.grade(
    points=2, hint="POST /auth/signup answers 201 with the new reader and logs them in."
)
def test_signup_creates_a_logged_in_reader(client):
    response = client.post("/auth/signup", json={"username": "rita", "password": "rita-secret"})
    assert response.status_code == 201, body(response)
    assert response.get_json()["role"] == "reader", body(response)
    me = client.get("/auth/me")
    assert me.status_code == 200 and me.get_json()["username"] == "rita", body(me)


@pytest.mark.grade(points=2, hint="User.set_password stores a hash, never the password.")
def test_password_is_stored_as_a_hash(app, client):
    client.post("/auth/signup", json={"username": "rita", "password": "rita-secret"})
    with app.app_context():
        stored = db.session.scalar(select(User.password_hash).where(User.username == "rita"))
    assert stored and "rita-secret" not in stored, stored
    assert "password" not in body(client.get("/auth/me")), "never send the hash"


@pytest.mark.grade(
    points=2, hint="A wrong password and an unknown user get the same 401 problem from login."
)
def test_failed_logins_look_the_same(auth):
    auth.create("rita")
    wrong_password = auth.login("rita", "not-her-password")
    unknown_user = auth.login("nobody", "not-her-password")
    assert wrong_password.status_code == unknown_user.status_code == 401, body(wrong_password)
    assert wrong_password.mimetype == PROBLEM, wrong_password.mimetype
    assert wrong_password.get_json() == unknown_user.get_json(), body(unknown_user)


@pytest.mark.grade(
    points=1, hint="login_manager.unauthorized_handler answers a 401 problem, not a redirect."
)
def test_anonymous_write_is_a_401_problem(client):
    response = client.post("/authors", json={"name": "Anonymous Author"})
    assert response.status_code == 401, body(response)
    assert response.mimetype == PROBLEM, response.mimetype


@pytest.mark.grade(
    points=2, hint="role_required('librarian'): a reader gets 403, a librarian 201."
)
def test_only_librarians_add_authors(auth, client):
    auth.create("rita")
    auth.create("libby", role="librarian")
    auth.login("rita")
    refused = client.post("/authors", json={"name": "Refused Author"})
    assert refused.status_code == 403, body(refused)
    assert refused.mimetype == PROBLEM, refused.mimetype
    auth.login("libby")
    assert client.post("/authors", json={"name": "Shelved Author"}).status_code == 201


@pytest.mark.grade(
    points=2, hint="Only a review's writer may PATCH it; the writer or an admin may DELETE it."
)
def test_only_the_writer_changes_a_review(auth, client):
    auth.create("libby", role="librarian")
    auth.create("ada", role="admin")
    auth.create("rita")
    auth.create("otto")
    auth.login("libby")
    book = client.post("/books", json={"title": "Kindred", "author": "Octavia E. Butler"})
    auth.login("rita")
    review = client.post("/reviews", json={"book_id": book.get_json()["id"], "rating": 4})
    assert review.status_code == 201, body(review)
    url = f"/reviews/{review.get_json()['id']}"
    auth.login("otto")
    assert client.patch(url, json={"rating": 1}).status_code == 403
    assert client.delete(url).status_code == 403
    auth.login("rita")
    assert client.patch(url, json={"rating": 5}).status_code == 200
    auth.login("ada")
    assert client.delete(url).status_code == 204


@pytest.mark.grade(points=2, hint="An admin changes roles with PATCH /users/<id> {\"role\"}.")
def test_admin_changes_a_role(auth, client):
    auth.create("ada", role="admin")
    auth.create("rita")
    auth.login("rita")
    assert client.patch("/users/2", json={"role": "admin"}).status_code == 403
    auth.login("ada")
    response = client.patch("/users/2", json={"role": "librarian"})
    assert response.status_code == 200, body(response)
    assert response.get_json()["role"] == "librarian", body(response)


@pytest.mark.grade(
    points=1, hint="`flask create-user NAME --role admin` asks for the password twice."
)
def test_create_user_command(runner, auth):
    result = runner.invoke(
        args=["create-user", "ada", "--role", "admin"], input="ada-secret\nada-secret\n"
    )
    assert result.exit_code == 0, result.output
    assert auth.login("ada", "ada-secret").get_json()["role"] == "admin"


@pytest.mark.grade(
    points=1, hint="Outside tests, the session cookie is Secure, HttpOnly and SameSite=Lax."
)
def test_production_cookies_are_secure(tmp_path):
    app = create_app(
        {
            "SECRET_KEY": "production-like",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'production.sqlite'}",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )
    with app.app_context():
        db.create_all()
    response = app.test_client().post(
        "/auth/signup", json={"username": "rita", "password": "rita-secret"}
    )
    with app.app_context():
        db.engine.dispose()
    cookie = response.headers.get("Set-Cookie", "")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie, cookie
