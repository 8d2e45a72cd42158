"""Fixtures shared by the fixture course's graders (the same shape as the real course's)."""

import pytest


def pytest_configure(config):
    """Register the marker every graded test carries."""
    config.addinivalue_line("markers", "grade(points, hint): points and hint of a graded test")


@pytest.fixture
def app(tmp_path):
    """A fresh application."""
    from bookshelf import create_app

    return create_app({"TESTING": True, "SECRET_KEY": "grading"})


@pytest.fixture
def client(app):
    """A test client for the app."""
    return app.test_client()
