"""The reader's page at ``/app/``: one static HTML page and a script that call the JSON API.

The page is plain files in ``static/``, with no build step: what the browser loads is what is
in the repository. It lives under ``/app/`` so that ``/`` stays the API root.
"""

from flask import Blueprint, current_app

bp = Blueprint("frontend", __name__)


@bp.get("/app/")
def page():
    """Send ``static/index.html``; ``/app`` without the slash redirects here."""
    return current_app.send_static_file("index.html")
