"""Fixture solution of 02-tally."""

from flask import Flask


def create_app(test_config=None):
    """Create the app."""
    app = Flask(__name__)
    app.config.from_mapping(test_config or {})
    from . import views

    app.register_blueprint(views.bp)
    return app
