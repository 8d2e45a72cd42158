"""Fixtures for the lab's tests, in the style of Flask's tutorial.

Every test gets a new application with its own SQLite file in a temporary folder, so tests never
see each other's data; its tables are created first. Passwords are hashed with a cheap method
here, since the tests hash many of them (the app's default, scrypt, is slow on purpose).

The tests of earlier labs were written before accounts existed. They carry the mark
``login_disabled``, which runs their app with ``LOGIN_DISABLED = True``: every login and role
check then lets the request through, as it does for the graders of those labs.
"""

import pytest
from bookshelf import create_app, crud


def pytest_configure(config):
    """Register the mark the earlier labs' tests carry."""
    config.addinivalue_line("markers", "login_disabled: run the app with LOGIN_DISABLED = True")


@pytest.fixture
def app(request, tmp_path):
    """A fresh application configured for testing."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'bookshelf.sqlite'}",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "LOGIN_DISABLED": request.node.get_closest_marker("login_disabled") is not None,
        }
    )
    db = app.extensions["sqlalchemy"]
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    """A test client that sends requests to the app without a server; it keeps cookies."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A runner for the app's ``flask`` commands."""
    return app.test_cli_runner()


class AuthActions:
    """Create accounts and log in and out through the API, as a client would."""

    def __init__(self, app, client):
        self._app = app
        self._client = client

    def create(self, username, role="reader", password=None):
        """Create a user with this role directly in the database (as `flask create-user` does)."""
        with self._app.app_context():
            crud.create_user(username, password or f"{username}-password", role)

    def login(self, username, password=None):
        """Log in as ``username`` (password default: "<username>-password")."""
        self._client.post("/auth/logout")
        return self._client.post(
            "/auth/login",
            json={"username": username, "password": password or f"{username}-password"},
        )

    def logout(self):
        """End the session."""
        return self._client.post("/auth/logout")


@pytest.fixture
def auth(app, client):
    """``auth.create("ada", "admin")``, ``auth.login("ada")``, ``auth.logout()``."""
    return AuthActions(app, client)
