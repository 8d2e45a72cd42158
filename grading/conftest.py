"""Fixtures shared by every hidden grader, whatever lab they run against.

The graders import the student's ``bookshelf`` package, so one grader works on any lab that
provides ``create_app(test_config=None)``. Each test gets a fresh SQLite file; when the app uses
Flask-SQLAlchemy its tables are created, so no seeding or migration is needed before grading.
"""

import pytest


def pytest_configure(config):
    """Register the marker every graded test carries."""
    config.addinivalue_line("markers", "grade(points, hint): points and hint of a graded test")


@pytest.fixture
def app(tmp_path):
    """A fresh application with its own empty database."""
    from bookshelf import create_app

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "grading",
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
    """A test client for the app."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A runner for the app's CLI commands."""
    return app.test_cli_runner()
