"""Every error as RFC 9457 problem details: one JSON shape a client can always rely on.

    HTTP/1.1 404 NOT FOUND
    Content-Type: application/problem+json

    {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "..."}

A 422 adds ``errors``, a map from field name to what is wrong with it.
"""

from flask import jsonify
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from .db import db

PROBLEM_MIMETYPE = "application/problem+json"


def problem(status, detail=None, **extra):
    """Return a problem details response; ``extra`` adds members such as ``errors``."""
    # "about:blank" says the status code is all there is to know; title is then its phrase.
    title = HTTP_STATUS_CODES.get(status, "Error")
    body = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_MIMETYPE
    return response


def error_headers(error):
    """The headers an HTTP error brings besides Content-Type, such as Allow on a 405."""
    return [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]


def handle_http_exception(error):
    """Answer an HTTP error (abort(404), a 405 from routing, InvalidFields, ...) as a problem."""
    extra = {"errors": error.errors} if getattr(error, "errors", None) else {}
    response = problem(error.code, error.description, **extra)
    response.headers.extend(error_headers(error))
    return response


def handle_integrity_error(error):
    """Answer a database constraint violation (a duplicate, a missing row) with 409 Conflict."""
    db.session.rollback()  # the failed flush leaves the session unusable until then
    return problem(409, "The request conflicts with data already stored.")


def init_app(app):
    """Send every HTTP error and every constraint violation through the handlers above."""
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(IntegrityError, handle_integrity_error)
