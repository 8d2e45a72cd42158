"""The API described for machines: an OpenAPI 3 document at ``/openapi.json``.

apispec builds the document; its marshmallow plugin turns marshmallow schemas into JSON Schema.
The responses are the app's own schemas (schemas.py) with ``_links`` added. The request bodies
are described by the small schemas below, which spell out as JSON Schema (lengths, patterns,
ranges) what the rules of validation.py check in Python.
The document lists, for every operation, each status the API can answer, so a client generator
or a fuzzer (the course runs schemathesis against it) can hold the API to it. Links tell a
client where to go; this document tells it what to send there.
"""

import datetime

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import current_app, jsonify
from marshmallow import RAISE, Schema, fields, validate

from . import schemas
from .hypermedia import DEFAULT_PER_PAGE, MAX_PER_PAGE
from .validation import (
    FIRST_YEAR,
    FREE_TEXT_LENGTH,
    MAX_INTEGER,
    NAME_LENGTH,
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    ROLES,
    TITLE_LENGTH,
    USERNAME_LENGTH,
)

PROBLEM = "application/problem+json"
# Text that holds something besides spaces (the API strips names and titles and refuses blanks)
# and no NUL character, which PostgreSQL cannot store.
NOT_BLANK = r"^[^\u0000]*\S[^\u0000]*$"
NO_NUL = r"^[^\u0000]*$"
# The API also takes hyphens and spaces in an ISBN and stores it without them.
ISBN = r"^([0-9]{13}|[0-9]{9}[0-9Xx])$"


# --- the shapes --------------------------------------------------------------------------------


class LinkSchema(Schema):
    """A link object: where to go, and the method when it is not GET."""

    href = fields.String(required=True)
    method = fields.String(validate=validate.OneOf(["POST", "PATCH", "DELETE"]))


def links_field():
    """The ``_links`` member: a map from a link relation to a link object."""
    return fields.Dict(keys=fields.String(), values=fields.Nested(LinkSchema), required=True,
                       data_key="_links", dump_only=True)


# The responses are the dumps of the app's own schemas (schemas.py) plus "_links".


class AuthorOut(schemas.AuthorSchema):
    """An author as the API sends it (in detail, with their books)."""

    links = links_field()


class BookOut(schemas.BookSchema):
    """A book as the API sends it (in detail, with its reviews)."""

    links = links_field()


class ReviewOut(schemas.ReviewSchema):
    """A review as the API sends it, with its book."""

    links = links_field()


class UserOut(schemas.UserSchema):
    """A user as the API sends it (never a password or a hash)."""

    links = links_field()


class RootSchema(Schema):
    """The API root: its name, the URL templates of earlier labs, and links."""

    name = fields.String(required=True)
    endpoints = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    links = links_field()


class ProblemSchema(Schema):
    """RFC 9457 problem details; ``errors`` maps a field to what is wrong with it."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.String())


class Body(Schema):
    """A request body: any field not listed is refused (422)."""

    class Meta:
        unknown = RAISE


def identifier_field(**kwargs):
    """A positive id the database can store."""
    return fields.Integer(strict=True, validate=validate.Range(1, MAX_INTEGER), **kwargs)


def text_field(length, **kwargs):
    """Text that is not blank and, stripped, at most ``length`` characters."""
    checks = [validate.Length(1, length), validate.Regexp(NOT_BLANK)]
    return fields.String(validate=checks, **kwargs)


def free_text_field():
    """A bio or a review's body: text of at most FREE_TEXT_LENGTH characters, or null."""
    checks = [validate.Length(max=FREE_TEXT_LENGTH), validate.Regexp(NO_NUL)]
    return fields.String(allow_none=True, validate=checks)


class AuthorInSchema(Body):
    """What POST /authors takes (PATCH takes any part of it)."""

    name = text_field(NAME_LENGTH, required=True)
    bio = free_text_field()


class AuthorChangesSchema(AuthorInSchema):
    """What PATCH /authors/<id> takes."""

    name = text_field(NAME_LENGTH)


class BookInSchema(Body):
    """What POST /books takes: a title and an author (by name or by id)."""

    title = text_field(TITLE_LENGTH, required=True)
    author = text_field(NAME_LENGTH)
    author_id = identifier_field()
    # Books are announced ahead: up to next year (the document is built when the app starts).
    year = fields.Integer(strict=True, allow_none=True, validate=validate.Range(FIRST_YEAR, 2100))
    isbn = fields.String(allow_none=True, validate=validate.Regexp(ISBN))


class BookChangesSchema(BookInSchema):
    """What PATCH /books/<id> takes."""

    title = text_field(TITLE_LENGTH)


class ReviewInSchema(Body):
    """What POST /reviews takes from a logged-in writer."""

    book_id = identifier_field(required=True)
    rating = fields.Integer(strict=True, required=True, validate=validate.Range(1, 5))
    body = free_text_field()


class ReviewChangesSchema(Body):
    """What PATCH /reviews/<id> takes."""

    rating = fields.Integer(strict=True, validate=validate.Range(1, 5))
    body = free_text_field()


class RoleChangeSchema(Body):
    """What PATCH /users/<id> takes."""

    role = fields.String(validate=validate.OneOf(ROLES))


class SignupSchema(Body):
    """What POST /auth/signup takes."""

    username = text_field(USERNAME_LENGTH, required=True)
    password = fields.String(
        required=True, validate=validate.Length(PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH)
    )


class LoginSchema(Body):
    """What POST /auth/login takes."""

    username = fields.String(required=True, validate=validate.Regexp(NOT_BLANK))
    password = fields.String(required=True)
    remember = fields.Boolean()


# --- the operations ----------------------------------------------------------------------------

PAGE_PARAMETERS = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                               "maximum": 999_999_999, "default": 1}},
    {"name": "per_page", "in": "query", "description": f"at most {MAX_PER_PAGE}",
     "schema": {"type": "integer", "minimum": 1, "maximum": 999_999_999,
                "default": DEFAULT_PER_PAGE}},
]
PAGE_HEADERS = {
    "Link": {"required": True, "description": "first, prev, next and last pages (RFC 8288)",
             "schema": {"type": "string"}},
    "X-Total-Count": {"required": True, "schema": {"type": "string", "pattern": "^[0-9]+$"}},
}
LOCATION = {"Location": {"required": True, "schema": {"type": "string"}}}
WHY = {
    400: "malformed JSON or bad page arguments",
    401: "nobody is logged in",
    403: "not allowed",
    404: "no such resource or page",
    409: "clashes with stored data",
    415: "the body is not JSON",
    422: "a field is missing, unknown or invalid",
    503: "the database does not answer",
}


def problems(*statuses):
    """The problem responses of an operation."""
    return {
        str(status): {"description": WHY[status],
                      "content": {PROBLEM: {"schema": "Problem"}}}
        for status in statuses
    }


def answer(status, schema=None, description="OK", headers=None, many=False):
    """One successful response; ``schema`` None for an empty body."""
    response = {"description": description}
    if schema is not None:
        shape = {"type": "array", "items": schema} if many else schema
        response["content"] = {"application/json": {"schema": shape}}
    if headers:
        response["headers"] = headers
    return {str(status): response}


def body_of(schema):
    """A required JSON request body."""
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def item_parameter(name):
    """The id in the path of one resource."""
    return [{"name": name, "in": "path", "required": True,
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_INTEGER}}]


def listing(schema, *parameters):
    """GET on a paginated collection."""
    return {"parameters": [*parameters, *PAGE_PARAMETERS],
            "responses": {**answer(200, schema, headers=PAGE_HEADERS, many=True),
                          **problems(400, 404)}}


def creation(schema, body, *refusals):
    """POST on a collection."""
    return {"requestBody": body_of(body),
            "responses": {**answer(201, schema, "Created", LOCATION),
                          **problems(400, 401, 403, 415, 422, *refusals)}}


def item_operations(name, schema, changes, *, changed=None, delete_conflicts=False,
                    change_conflicts=True):
    """GET, PATCH and DELETE on one resource; ``changed`` is what PATCH answers, when it is
    not ``schema``."""
    parameters = item_parameter(name)
    change_refusals = (400, 401, 403, 404, 415, 422) + ((409,) if change_conflicts else ())
    return {
        "parameters": parameters,
        "get": {"responses": {**answer(200, schema), **problems(401, 403, 404)}},
        "patch": {"requestBody": body_of(changes),
                  "responses": {**answer(200, changed or schema), **problems(*change_refusals)}},
        "delete": {"responses": {**answer(204, description="Deleted"),
                                 **problems(401, 403, 404, *((409,) if delete_conflicts else ()))}},
    }


def query(name, schema):
    """An optional query-string parameter."""
    return {"name": name, "in": "query", "schema": schema}


PATHS = {
    "/": {"get": {"responses": answer(200, "Root")}},
    "/authors": {"get": listing("AuthorResource"),
                 "post": creation("AuthorDetail", "AuthorIn", 409)},
    "/authors/{author_id}": item_operations("author_id", "AuthorDetail",
                                            "AuthorChanges",
                                            delete_conflicts=True),
    "/books": {
        "get": listing("BookResource", query("q", {"type": "string"}),
                       query("author_id", {"type": "integer"}),
                       query("limit", {"type": "integer"})),
        "post": creation("BookDetail", "BookIn", 409),
    },
    "/books/{book_id}": item_operations("book_id", "BookDetail", "BookChanges"),
    "/books/author/{name}": {
        "get": listing("BookResource", {"name": "name", "in": "path", "required": True,
                                      "schema": {"type": "string", "pattern": "^[^/]+$"}}),
    },
    "/reviews": {"get": listing("ReviewResource", query("book_id", {"type": "integer"})),
                 "post": creation("ReviewResource", "ReviewIn", 409)},
    "/reviews/{review_id}": item_operations("review_id", "ReviewResource", "ReviewChanges",
                                            change_conflicts=False),
    "/users": {"get": {"parameters": PAGE_PARAMETERS,
                       "responses": {**answer(200, "UserResource", headers=PAGE_HEADERS, many=True),
                                     **problems(400, 401, 403, 404)}}},
    "/users/{user_id}": item_operations("user_id", "UserResource", "RoleChange",
                                        delete_conflicts=True),
    "/auth/signup": {"post": {"requestBody": body_of("Signup"),
                              "responses": {**answer(201, "UserResource", "Created", LOCATION),
                                            **problems(400, 409, 415, 422)}}},
    "/auth/login": {"post": {"requestBody": body_of("Login"),
                             "responses": {**answer(200, "UserResource"),
                                           **problems(400, 401, 415, 422)}}},
    "/auth/logout": {"post": {"responses": answer(204, description="Logged out")}},
    "/auth/me": {"get": {"responses": {**answer(200, "UserResource"), **problems(401)}}},
    "/healthz": {"get": {"responses": {
        "200": {"description": "the app and its database answer",
                "content": {"application/json": {"schema": {
                    "type": "object", "required": ["status"],
                    "properties": {"status": {"type": "string", "enum": ["ok"]}}}}}},
        **problems(503)}}},
    "/app/": {"get": {"responses": {"200": {
        "description": "the reader's page", "content": {"text/html": {"schema": {"type": "string"}}}
    }}}},
}
# Component name -> schema. A list item leaves out what only the detail nests.
SCHEMAS = {
    "Link": LinkSchema,
    "AuthorResource": AuthorOut(exclude=("books",)),
    "AuthorDetail": AuthorOut,
    "BookResource": BookOut(exclude=("reviews",)),
    "BookDetail": BookOut,
    "ReviewResource": ReviewOut,
    "UserResource": UserOut,
    "Root": RootSchema,
    "Problem": ProblemSchema,
    "AuthorIn": AuthorInSchema,
    "AuthorChanges": AuthorChangesSchema,
    "BookIn": BookInSchema,
    "BookChanges": BookChangesSchema,
    "ReviewIn": ReviewInSchema,
    "ReviewChanges": ReviewChangesSchema,
    "RoleChange": RoleChangeSchema,
    "Signup": SignupSchema,
    "Login": LoginSchema,
}


def component_name(schema):
    """The component name of a nested schema: ``BookSchema(exclude=("reviews",))`` is
    ``BookWithoutReviews``, so two shapes of one schema never share a name."""
    instance = schema if not isinstance(schema, type) else None
    name = (type(schema) if instance else schema).__name__.removesuffix("Schema")
    if instance is not None and instance.only:
        name += "Only" + words(instance.only)
    if instance is not None and instance.exclude:
        name += "Without" + words(instance.exclude)
    return name


def words(field_names):
    """Field names as one CamelCase word: ("author", "id") -> "AuthorId"."""
    return "".join(part.title().replace("_", "") for part in sorted(field_names))


def build_document():
    """The OpenAPI document of the API, as a dict."""
    spec = APISpec(title="Bookshelf API", version="1.0.0", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin(schema_name_resolver=component_name)])
    spec.components.security_scheme(
        "session", {"type": "apiKey", "in": "cookie", "name": "session"}
    )
    for name, schema in SCHEMAS.items():
        spec.components.schema(name, schema=schema)
    for path, operations in PATHS.items():
        operations = dict(operations)
        shared = operations.pop("parameters", None)  # the path's own, such as {book_id}
        spec.path(path=path, operations=operations, parameters=shared)
    document = spec.to_dict()
    components = document["components"]["schemas"]
    # What marshmallow cannot say: books are announced up to next year, and a new book names
    # its author by name or by id.
    for name in ("BookIn", "BookChanges"):
        components[name]["properties"]["year"]["maximum"] = datetime.date.today().year + 1
    components["BookIn"]["anyOf"] = [{"required": ["author"]}, {"required": ["author_id"]}]
    return document


def openapi_document():
    """``GET /openapi.json``: the document, built once per app."""
    document = current_app.extensions.get("openapi")
    if document is None:
        document = current_app.extensions["openapi"] = build_document()
    return jsonify(document)


def init_app(app):
    """Serve the document at /openapi.json."""
    app.add_url_rule("/openapi.json", "openapi", openapi_document)
