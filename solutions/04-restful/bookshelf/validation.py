"""Reading client input safely: the JSON body, its fields, and ids in URLs.

A client can send anything. These helpers turn every bad input into a 4xx error that names the
problem, so no request can reach the database with a value it cannot store (which would be a 500).
"""

from flask import abort, request
from werkzeug.exceptions import UnprocessableEntity
from werkzeug.routing import IntegerConverter

# SQLite (and PostgreSQL's BIGINT) store signed 64-bit integers; a bigger Python int overflows.
MAX_INTEGER = 2**63 - 1


class InvalidFields(UnprocessableEntity):
    """A 422 error that carries one message per invalid field, e.g. {"title": "is required"}."""

    description = "Some fields of the request body are missing or invalid."

    def __init__(self, errors):
        super().__init__()
        self.errors = errors


class IdConverter(IntegerConverter):
    """The int converter, limited to numbers the database can store: bigger ones do not match."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_INTEGER, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def json_body():
    """Return the request's JSON object, or stop with 415 (not JSON), 400 (broken) or 422."""
    if not request.is_json:
        abort(415, "Send a JSON body with the header Content-Type: application/json.")
    # silent=True returns None instead of raising, so the error message is ours.
    body = request.get_json(silent=True)
    if body is None:
        abort(400, "The request body is not valid JSON.")
    if not isinstance(body, dict):
        raise InvalidFields({"body": "must be a JSON object"})
    return body


def validate(data, checks, required=(), partial=False):
    """Return ``{field: clean value}`` for the fields of ``checks`` present in ``data``.

    Each check turns a raw value into a clean one or raises ValueError with a message. All
    problems are collected before raising InvalidFields, so the client can fix them at once.
    A field not named in ``checks`` is an error as well: silently dropping it would hide a typo
    such as ``"titel"`` from the client. ``partial`` (for PATCH) skips ``required``.
    """
    values, errors = {}, {}
    # TODO(04-restful): give every field of data that checks does not name the error
    # "is not a field you can set here", so it is reported with the others.
    ### BEGIN SOLUTION remove
    for name in data.keys() - checks.keys():
        errors[name] = "is not a field you can set here"
    ### END SOLUTION
    for name, check in checks.items():
        if name not in data:
            if name in required and not partial:
                errors[name] = "is required"
            continue
        try:
            values[name] = check(data[name])
        except ValueError as error:
            errors[name] = str(error)
    if errors:
        raise InvalidFields(errors)
    return values


def text(value):
    """A non-empty string, without surrounding spaces."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    return value.strip()


def optional_text(value):
    """A string (possibly empty) or null."""
    if value is not None and not isinstance(value, str):
        raise ValueError("must be a string or null")
    return value


def whole_number(value):
    """An integer the database can store; ``True`` is refused although Python calls it an int."""
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_INTEGER:
        raise ValueError("must be a whole number")
    return value


def optional_whole_number(value):
    """A whole number or null."""
    return None if value is None else whole_number(value)


def identifier(value):
    """A positive whole number, as used for ids."""
    if whole_number(value) < 1:
        raise ValueError("must be a positive whole number")
    return value


def rating(value):
    """A whole number of stars from 1 to 5."""
    if whole_number(value) not in range(1, 6):
        raise ValueError("must be a whole number from 1 to 5")
    return value


def query_id(name):
    """Return the query-string argument ``name`` as an id, or None when absent or not an id."""
    value = request.args.get(name, type=int)
    return value if value is not None and 1 <= value <= MAX_INTEGER else None
