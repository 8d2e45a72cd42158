"""The Bookshelf API: a small JSON API about books, built one lab at a time."""

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def create_app(test_config=None):
    """Create and configure an instance of the Bookshelf application.

    Defaults come first, then ``FLASK_*`` environment variables (for example
    ``FLASK_SQLALCHEMY_DATABASE_URI``), then Render's ``DATABASE_URL`` and ``SECRET_KEY``, then
    ``test_config``, so a test always has the last word (see ``config.configure``).
    """
    app = Flask(__name__, instance_relative_config=True)

    from . import config

    config.configure(app, test_config)

    from . import auth, db, errors, page_cache
    from .validation import IdConverter

    db.init_app(app)
    page_cache.init_app(app)
    errors.init_app(app)
    auth.init_app(app)
    # Must be set before the routes are added, which look the converter up by name.
    app.url_map.converters["int"] = IdConverter

    from . import api, frontend, health, openapi

    api.init_app(app)
    openapi.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(frontend.bp)
    # Render's proxy ends HTTPS and forwards plain HTTP; its X-Forwarded-Proto header tells the
    # app the client's scheme, so url_for(..., _external=True) and redirects say https://.
    # Last, so it runs first: everything behind it (the page cache too) sees the client's request.
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)
    return app
