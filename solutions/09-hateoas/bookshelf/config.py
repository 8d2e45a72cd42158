"""Configuration from the environment: the settings that differ between a laptop and Render.

A deployed app reads its secrets and its database from environment variables, never from the
code. Render hands a web service ``DATABASE_URL`` (from its PostgreSQL database) and whatever
the Blueprint declares, such as a generated ``SECRET_KEY``. On your own machine nothing needs to
be set: ``--debug`` gives you a development key and SQLite.
"""

import logging
import os
import sys

from flask.logging import default_handler

# A relative SQLite path lives in the instance folder, which Flask-SQLAlchemy creates.
DEVELOPMENT_DATABASE_URL = "sqlite:///bookshelf.sqlite"
DEVELOPMENT_SECRET_KEY = "dev"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# One handler for every app this process creates, so tests that build many apps log each line once.
STDOUT_HANDLER = logging.StreamHandler(sys.stdout)
STDOUT_HANDLER.setFormatter(logging.Formatter(LOG_FORMAT))


class ConfigurationError(RuntimeError):
    """The app cannot start with this configuration; the message says what to set."""


def normalise_database_url(url):
    """Return ``url`` as SQLAlchemy should use it: PostgreSQL always through psycopg 3.

    Render (like Heroku) writes ``postgres://...``, a scheme SQLAlchemy rejects, and a bare
    ``postgresql://`` would pick whatever driver the SQLAlchemy version prefers. Other URLs
    (SQLite, or a PostgreSQL URL that names its driver) are returned unchanged.
    """
    scheme, separator, rest = url.partition("://")
    if separator and scheme in ("postgres", "postgresql"):
        return f"postgresql+psycopg://{rest}"
    return url


def from_environment(config, environ=None):
    """Copy ``DATABASE_URL`` and ``SECRET_KEY`` from the environment into ``config``."""
    environ = os.environ if environ is None else environ
    if environ.get("DATABASE_URL"):
        config["SQLALCHEMY_DATABASE_URI"] = environ["DATABASE_URL"]
    if environ.get("SECRET_KEY"):
        config["SECRET_KEY"] = environ["SECRET_KEY"]


def require_secret_key(app):
    """Give development and tests a known key; anywhere else, refuse to start without one.

    A known key in production would let anyone sign a session cookie for any user.
    """
    if app.config.get("SECRET_KEY"):
        return
    if app.debug or app.testing:
        app.config["SECRET_KEY"] = DEVELOPMENT_SECRET_KEY
        return
    raise ConfigurationError(
        "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long random value "
        "(python -c 'import secrets; print(secrets.token_hex())'); on Render the Blueprint "
        "generates one. On your own machine, --debug uses a development key."
    )


def log_to_stdout(app):
    """Outside development and tests, send the app's log lines to standard output at INFO.

    Render shows a service's standard output and error in its Logs tab; nothing is written to
    files, which a free instance loses at every restart anyway.
    """
    if app.debug or app.testing:
        return
    app.logger.removeHandler(default_handler)
    if STDOUT_HANDLER not in app.logger.handlers:
        app.logger.addHandler(STDOUT_HANDLER)
    app.logger.setLevel(logging.INFO)
    app.logger.propagate = False


def configure(app, test_config=None):
    """Apply, in order: defaults, FLASK_* variables, Render's variables, then ``test_config``."""
    app.config.from_mapping(
        SECRET_KEY=None,
        SQLALCHEMY_DATABASE_URI=DEVELOPMENT_DATABASE_URL,
        # Werkzeug's strong default. Tests may pick a cheap one such as "pbkdf2:sha256:1000":
        # they hash hundreds of passwords, and scrypt is slow on purpose.
        PASSWORD_HASH_METHOD="scrypt",
        # How many rendered list pages each process keeps (page_cache.py); 0 turns caching off.
        # FLASK_PAGE_CACHE_SIZE=0 in the environment does the same on a server.
        PAGE_CACHE_SIZE=256,
    )
    app.config.from_prefixed_env()
    from_environment(app.config)
    if test_config is not None:
        app.config.from_mapping(test_config)
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    require_secret_key(app)
    log_to_stdout(app)
