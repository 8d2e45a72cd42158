"""Every error as RFC 9457 problem details: one JSON shape a client can always rely on.

    HTTP/1.1 404 NOT FOUND
    Content-Type: application/problem+json

    {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "..."}

A 422 (and a 409 that can name the clashing field) adds ``errors``, a map from field name to
what is wrong with it.
"""

import re

from flask import jsonify
from sqlalchemy.exc import DataError, IntegrityError
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from .db import db
from .validation import InvalidValue

PROBLEM_MIMETYPE = "application/problem+json"

# The field each named constraint guards, and what to tell a client whose row it refused.
# uq_ constraints clash with stored data (409); ck_ constraints refuse the value itself (422).
CONSTRAINT_FIELDS = {
    "uq_authors_name": ("name", "is already taken by another author"),
    "uq_books_isbn": ("isbn", "is already used by another book"),
    "uq_users_username": ("username", "is already taken"),
    "uq_reviews_user_id_book_id": ("book_id", "has already been reviewed by this user"),
    "ck_authors_name_not_blank": ("name", "must not be blank"),
    "ck_books_title_not_blank": ("title", "must not be blank"),
    "ck_books_year_sensible": ("year", "is not a sensible publication year"),
    "ck_users_username_not_blank": ("username", "must not be blank"),
    "ck_users_role_known": ("role", "must be reader, librarian or admin"),
    "ck_reviews_rating_range": ("rating", "must be a whole number from 1 to 5"),
}
# How SQLite words a violation: "CHECK constraint failed: ck_books_year_sensible",
# "UNIQUE constraint failed: reviews.user_id, reviews.book_id".
SQLITE_VIOLATION = re.compile(r"(CHECK|UNIQUE) constraint failed: (.+)$")


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


def violated_constraint(error):
    """The name of the constraint an IntegrityError broke, or None when it cannot be told."""
    # PostgreSQL (psycopg) names it in the error's diagnostics.
    name = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
    if name:
        return name
    # SQLite names a CHECK, but describes a UNIQUE by its columns; the naming convention in
    # db.py turns those columns back into the name: uq_<table>_<column>_<column>.
    match = SQLITE_VIOLATION.search(str(error.orig))
    if match is None:
        return None
    kind, detail = match.groups()
    if kind == "CHECK":
        return detail.strip()
    columns = [column.strip().split(".") for column in detail.split(",")]
    return "_".join(["uq", columns[0][0], *(column for _, column in columns)])


def handle_integrity_error(error):
    """Answer a constraint violation: 409 for a clash with stored data, 422 for a bad value."""
    db.session.rollback()  # the failed flush leaves the session unusable until then
    name = violated_constraint(error)
    if name not in CONSTRAINT_FIELDS:
        return problem(409, "The request conflicts with data already stored.")
    field, message = CONSTRAINT_FIELDS[name]
    if name.startswith("ck_"):
        return problem(422, "The database refused a value.", errors={field: message})
    return problem(409, "The request clashes with data already stored.", errors={field: message})


def handle_invalid_value(error):
    """Answer a value a model refused in @validates as a 422 naming the field, never a 500."""
    db.session.rollback()  # a row changed half-way must never reach a later commit
    errors = {error.field: error.message}
    return problem(422, "A field has a value the model refuses.", errors=errors)


def handle_data_error(error):
    """Answer a value the database cannot hold at all (a NUL in a query string for PostgreSQL,
    say) as a 400, never a 500."""
    db.session.rollback()
    return problem(400, "The database cannot hold a value of this request.")


def init_app(app):
    """Send every HTTP error, constraint violation and refused value through the handlers above."""
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(DataError, handle_data_error)
    app.register_error_handler(InvalidValue, handle_invalid_value)
