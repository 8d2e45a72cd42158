"""``GET /healthz``: is this instance able to serve? Render asks before sending it traffic.

Render calls the Blueprint's ``healthCheckPath`` while it deploys and then every few seconds. An
answer other than 2xx or 3xx keeps a new deploy from going live and restarts a running one, so
the check must be cheap, must not need a login, and must say no when the database is gone.
"""

from flask import Blueprint, current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .db import db
from .errors import problem

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def health_check():
    """200 ``{"status": "ok"}`` when the database answers; 503 problem details when it does not."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        current_app.logger.error("Health check failed, the database is unreachable: %s", error)
        db.session.rollback()
        response = problem(503, "The database is unreachable.")
    else:
        response = current_app.json.response({"status": "ok"})
    response.headers["Cache-Control"] = "no-store"
    return response
