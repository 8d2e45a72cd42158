"""The Bookshelf's data rules, in one place, and reading client input with them.

A rule is a small function that turns a raw value into a clean one, or raises ValueError with a
message a client can be shown. The API runs the rules over the fields of a JSON body
(``validate``); the models run the same rules in their ``@validates`` methods (``check_field``),
so a row written by a script or a CLI command meets exactly the rules a request meets. The
database's constraints (see models.py) are the last fence behind both.
"""

import datetime
import re

from flask import abort, request
from werkzeug.exceptions import Conflict, UnprocessableEntity
from werkzeug.routing import IntegerConverter

# The id columns (Mapped[int]) are INTEGER: 64 bits in SQLite, but 32 bits in PostgreSQL, which
# answers a bigger id with "integer out of range" (a 500). So ids and whole numbers stop at
# PostgreSQL's limit.
MAX_INTEGER = 2**31 - 1
# The lengths of the String columns in models.py: PostgreSQL refuses a longer value (SQLite
# would quietly store it), so the rules refuse it first, with a message.
TITLE_LENGTH = 300
NAME_LENGTH = 200
USERNAME_LENGTH = 80
# A password long enough to resist guessing, short enough that hashing it costs little.
PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128
# The roles, from the fewest rights to the most: each may do what the ones before it may.
ROLES = ("reader", "librarian", "admin")
ROLE_LENGTH = 20
ISBN_LENGTH = 13
# Text columns have no limit in the database, but a request should not be able to store a book.
FREE_TEXT_LENGTH = 5000
# The first printed books. The database's CHECK uses the same floor and a fixed ceiling, since a
# CHECK cannot ask for today's date; the rule below can, and stops at next year.
FIRST_YEAR = 1450
LAST_YEAR_IN_DATABASE = 2100
# Thirteen digits, or nine digits and a check character that may be X. [0-9], not \d: \d also
# matches digits of other scripts.
ISBN_PATTERN = re.compile(r"[0-9]{13}|[0-9]{9}[0-9X]")


class InvalidFields(UnprocessableEntity):
    """A 422 error that carries one message per invalid field, e.g. {"title": "is required"}."""

    description = "Some fields of the request body are missing or invalid."

    def __init__(self, errors):
        super().__init__()
        self.errors = errors


class FieldConflict(Conflict):
    """A 409 error naming the fields that clash with stored data, e.g. {"name": "is taken"}."""

    description = "Some fields clash with data already stored."

    def __init__(self, errors):
        super().__init__()
        self.errors = errors


class InvalidValue(ValueError):
    """A value a model refused in ``@validates``: the field, and a message for the client."""

    def __init__(self, field, message):
        super().__init__(f"{field} {message}")
        self.field = field
        self.message = message


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
    for name in data.keys() - checks.keys():
        errors[name] = "is not a field you can set here"
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


def check_field(field, value, rule):
    """Apply ``rule`` in a model's ``@validates``: the clean value, or InvalidValue naming it."""
    try:
        return rule(value)
    except ValueError as error:
        raise InvalidValue(field, str(error)) from None


# --- the rules ----------------------------------------------------------------------------


def refuse_nul(value):
    """Refuse the NUL character, which PostgreSQL cannot store in a text column."""
    if "\x00" in value:
        raise ValueError("must not contain the NUL character")


def text(value, max_length=None):
    """A non-empty string without surrounding spaces, at most ``max_length`` characters."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    refuse_nul(value)
    value = value.strip()
    if max_length is not None and len(value) > max_length:
        raise ValueError(f"must be at most {max_length} characters long")
    return value


def title(value):
    """A book's title: non-empty text of at most TITLE_LENGTH characters."""
    return text(value, TITLE_LENGTH)


def person_name(value):
    """An author's name: non-empty text of at most NAME_LENGTH characters."""
    return text(value, NAME_LENGTH)


def username(value):
    """A reader's username: non-empty text of at most USERNAME_LENGTH characters."""
    return text(value, USERNAME_LENGTH)


def new_password(value):
    """A password to store: a string of 8 to 128 characters, kept exactly as typed."""
    if not isinstance(value, str) or not PASSWORD_MIN_LENGTH <= len(value) <= PASSWORD_MAX_LENGTH:
        raise ValueError(
            f"must be a string of {PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters"
        )
    return value


def given_password(value):
    """A password to check at log-in: any string (a wrong one is a 401, not a 422)."""
    if not isinstance(value, str):
        raise ValueError("must be a string")
    return value


def role(value):
    """One of the ROLES: reader, librarian or admin."""
    if value not in ROLES:
        raise ValueError(f"must be one of {', '.join(ROLES)}")
    return value


def boolean(value):
    """true or false, and nothing that merely looks like them (1, "yes")."""
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def optional_text(value):
    """A string (possibly empty) or null."""
    if value is not None and not isinstance(value, str):
        raise ValueError("must be a string or null")
    if value is not None:
        refuse_nul(value)
    return value


def free_text(value):
    """A bio or a review's body: a string of at most FREE_TEXT_LENGTH characters, or null."""
    value = optional_text(value)
    if value is not None and len(value) > FREE_TEXT_LENGTH:
        raise ValueError(f"must be at most {FREE_TEXT_LENGTH} characters long")
    return value


def whole_number(value):
    """An integer the database can store; ``True`` is refused although Python calls it an int."""
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_INTEGER:
        raise ValueError("must be a whole number")
    return value


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


def publication_year(value):
    """A year from FIRST_YEAR to next year (books are announced ahead), or null."""
    if value is None:
        return None
    last = datetime.date.today().year + 1
    if not FIRST_YEAR <= whole_number(value) <= last:
        raise ValueError(f"must be a year from {FIRST_YEAR} to {last}")
    return value


def isbn(value):
    """An ISBN-10 or ISBN-13 stored without hyphens or spaces ("0-8070-8305-x" -> "080708305X")."""
    if value is None:
        return None
    compact = text(value).replace("-", "").replace(" ", "").upper()
    if not ISBN_PATTERN.fullmatch(compact):
        raise ValueError("must be 10 or 13 digits (the last of 10 may be X); hyphens are fine")
    return compact


def query_id(name):
    """Return the query-string argument ``name`` as an id, or None when absent or not an id."""
    value = request.args.get(name, type=int)
    return value if value is not None and 1 <= value <= MAX_INTEGER else None
