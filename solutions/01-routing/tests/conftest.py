"""Fixtures for the lab's tests, in the style of Flask's tutorial.

Every test gets a new application from the factory, so each one starts from the same sample
books and no test sees what another one added.
"""

import pytest
from bookshelf import create_app


@pytest.fixture
def app():
    """A fresh application configured for testing."""
    return create_app({"TESTING": True, "SECRET_KEY": "test"})


@pytest.fixture
def client(app):
    """A test client that sends requests to the app without a server."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A runner for the app's ``flask`` commands."""
    return app.test_cli_runner()
