"""Fixtures for the lab's tests, in the style of Flask's tutorial.

Every test gets a new application with its own SQLite file in a temporary folder, so tests never
see each other's data. When the app uses Flask-SQLAlchemy the tables are created first.
"""

import pytest
from bookshelf import create_app


@pytest.fixture
def app(tmp_path):
    """A fresh application configured for testing."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'bookshelf.sqlite'}",
        }
    )
    db = app.extensions.get("sqlalchemy")
    if db is not None:
        with app.app_context():
            db.create_all()
    yield app
    if db is not None:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def client(app):
    """A test client that sends requests to the app without a server."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A runner for the app's ``flask`` commands."""
    return app.test_cli_runner()
