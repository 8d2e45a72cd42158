"""Fixture solution of 01-hello."""

from flask import Flask


def create_app(test_config=None):
    """Create the app."""
    app = Flask(__name__)
    app.config.from_mapping(test_config or {})

    @app.get("/hello/<name>")
    def hello(name):
        """Greet a visitor."""
        return {"greeting": f"Hello, {name}!"}

    return app
