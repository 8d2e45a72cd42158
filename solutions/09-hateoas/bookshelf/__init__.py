"""The Bookshelf API: a small JSON API about books, built one lab at a time."""

from flask import Flask


def create_app(test_config=None):
    """Create and configure an instance of the Bookshelf application.

    Defaults come first, then ``FLASK_*`` environment variables (for example
    ``FLASK_SQLALCHEMY_DATABASE_URI``), then ``test_config``, so a test always has the last word.
    """
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        SECRET_KEY="dev",
        # A relative SQLite path lives in the instance folder, which Flask-SQLAlchemy creates.
        SQLALCHEMY_DATABASE_URI="sqlite:///bookshelf.sqlite",
        # Werkzeug's strong default. Tests may pick a cheap one such as "pbkdf2:sha256:1000":
        # they hash hundreds of passwords, and scrypt is slow on purpose.
        PASSWORD_HASH_METHOD="scrypt",
    )
    app.config.from_prefixed_env()
    if test_config is not None:
        app.config.from_mapping(test_config)

    from . import auth, db, errors
    from .validation import IdConverter

    db.init_app(app)
    errors.init_app(app)
    auth.init_app(app)
    # Must be set before the routes are added, which look the converter up by name.
    app.url_map.converters["int"] = IdConverter

    from . import api, openapi

    api.init_app(app)
    app.register_blueprint(auth.bp)
    openapi.init_app(app)
    return app
