"""Fixtures for the lab's tests, in the style of Flask's tutorial.

Every test gets a new application with its own SQLite file in a temporary folder, so tests never
see each other's data; its tables are created first. ``production_client`` talks to an app
configured as in production (``TESTING`` off).
"""

import pytest
from bookshelf import create_app


def make_app(path, testing=True):
    """An application with its own SQLite file at ``path``, its tables created."""
    app = create_app(
        {
            "TESTING": testing,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
        }
    )
    with app.app_context():
        app.extensions["sqlalchemy"].create_all()
    return app


def dispose(app):
    """Close the app's database connections, so the temporary folder can go."""
    with app.app_context():
        app.extensions["sqlalchemy"].session.remove()
        app.extensions["sqlalchemy"].engine.dispose()


@pytest.fixture
def app(tmp_path):
    """A fresh application configured for testing."""
    app = make_app(tmp_path / "bookshelf.sqlite")
    yield app
    dispose(app)


@pytest.fixture
def production_client(tmp_path):
    """A test client of an app configured as in production: TESTING off.

    With TESTING on, Flask re-raises exceptions, which hides how Flask-RESTful answers errors
    in production. Both configurations must give the same answers.
    """
    app = make_app(tmp_path / "production.sqlite", testing=False)
    yield app.test_client()
    dispose(app)


@pytest.fixture
def client(app):
    """A test client that sends requests to the app without a server."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A runner for the app's ``flask`` commands."""
    return app.test_cli_runner()
