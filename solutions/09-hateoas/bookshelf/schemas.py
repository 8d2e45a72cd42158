"""marshmallow schemas: what the API sends for each model, and what it accepts from a client.

One schema per model works in both directions:

- ``schema.dump(row)`` turns a row (or, with ``many=True``, a list of rows) into JSON-ready data.
  It replaces the hand-written ``to_dict`` methods and nests related rows: a review shows its
  book, a book its reviews, an author their books.
- ``schema.load(body)`` checks a request body and returns clean values, or raises
  ``ValidationError`` with messages per field, which errors.py answers as a 422.
  ``partial=True`` (for PATCH) skips ``required``.

``id`` and everything computed are ``dump_only``. A body holding them is refused like any unknown
field, so ``{"id": 7}`` can never point an update at another row.
"""

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates,
    validates_schema,
)

from . import crud
from .models import Author
from .validation import (
    MAX_INTEGER,
    free_text,
    isbn,
    person_name,
    publication_year,
    title,
    username,
)

# The API's words for marshmallow's "Missing data for required field." and friends.
MESSAGES = {"required": "is required", "null": "must not be null"}


class Rule(fields.Field):
    """A field checked and cleaned by one of the rules in validation.py.

    The models' ``@validates`` methods run the same rules, so a value the API accepts is a value
    the model accepts. A rule raises ValueError; ``load()`` collects only ValidationError, so the
    field turns one into the other (a ValueError would escape ``load()`` and become a 500).
    """

    default_error_messages = MESSAGES

    def __init__(self, rule, **kwargs):
        super().__init__(**kwargs)
        self.rule = rule

    def _deserialize(self, value, attr, data, **kwargs):
        """Return the rule's clean value, or raise ValidationError with the rule's message."""
        try:
            return self.rule(value)
        except ValueError as error:
            raise ValidationError(str(error)) from None


def whole_number(low, high, message, **kwargs):
    """An integer field from ``low`` to ``high``: no strings, no floats, no ``true``."""
    # strict=True refuses "5" and 5.0; marshmallow refuses booleans in number fields anyway.
    return fields.Integer(
        strict=True,
        validate=validate.Range(low, high, error=message),
        error_messages={**MESSAGES, "invalid": "must be a whole number"},
        **kwargs,
    )


def identifier(**kwargs):
    """A positive id the database can store (a bigger number is refused, not an overflow)."""
    return whole_number(1, MAX_INTEGER, "must be a positive whole number", **kwargs)


class ApiSchema(Schema):
    """The base of every schema: a field the schema does not declare is an error."""

    class Meta:
        # RAISE is marshmallow's default; written here because the API depends on it: a typo
        # such as "titel" is reported, and a dump_only field such as "id" counts as unknown.
        unknown = RAISE

    error_messages = {
        "unknown": "is not a field you can set here",
        "type": "must be a JSON object",
    }


class UserSchema(ApiSchema):
    """A user as others see them: id, username and role, never the password hash."""

    id = fields.Integer(dump_only=True)
    username = Rule(username, required=True)
    role = fields.String(dump_only=True)


class AuthorSchema(ApiSchema):
    """An author: id, name, bio, how many books they have, and (in detail) those books."""

    id = fields.Integer(dump_only=True)
    name = Rule(person_name, required=True)
    bio = Rule(free_text, allow_none=True)
    book_count = fields.Method("count_books", dump_only=True)
    books = fields.List(fields.Nested(lambda: BookSchema(exclude=("reviews",))), dump_only=True)

    def count_books(self, author):
        """The number of books by ``author`` (the value of book_count)."""
        return len(author.books)



class BookSchema(ApiSchema):
    """A book: its author by name (and id), and (in detail) its reviews.

    On load, ``author`` is a name (found, or a new author) and ``author_id`` an existing author;
    ``post_load`` turns either into the Author itself, under ``author``.
    """

    id = fields.Integer(dump_only=True)
    title = Rule(title, required=True)
    year = Rule(publication_year, allow_none=True)
    isbn = Rule(isbn, allow_none=True)
    author = fields.Pluck(lambda: AuthorSchema, "name")
    author_id = identifier()
    reviews = fields.List(fields.Nested(lambda: ReviewSchema(exclude=("book",))), dump_only=True)

    @validates("author_id")
    def author_exists(self, author_id, data_key):
        """An author_id must name an author."""
        if crud.get_author(author_id) is None:
            raise ValidationError(f"there is no author with id {author_id}")


    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def author_given(self, data, original_data, partial, **kwargs):
        """A new book needs its author: a name or an id (a PATCH may leave it out)."""
        if not partial and not {"author", "author_id"} & set(original_data):
            raise ValidationError("give the author's name, or an author_id", "author")


    @post_load
    def find_author(self, data, **kwargs):
        """Put the Author itself under ``author``: by id, by name, or new (saved with the book)."""
        if "author_id" in data:
            data["author"] = crud.get_author(data.pop("author_id"))
        elif "author" in data:
            name = data["author"]["name"]
            data["author"] = crud.find_author(name) or Author(name=name)
        return data



class ReviewSchema(ApiSchema):
    """A review: its book (nested: id, title, author), its writer, rating and body.

    On load, ``book_id`` must name a book; ``post_load`` puts the Book under ``book``. A missing
    or null body is the empty text.
    """

    id = fields.Integer(dump_only=True)
    user_id = fields.Integer(dump_only=True)
    username = fields.Pluck(UserSchema, "username", attribute="user", dump_only=True)
    rating = whole_number(1, 5, "must be a whole number from 1 to 5", required=True)
    body = Rule(free_text, allow_none=True, load_default="")
    book_id = identifier(required=True)
    book = fields.Nested(lambda: BookSchema(only=("id", "title", "author")), dump_only=True)

    @validates("book_id")
    def book_exists(self, book_id, data_key):
        """A book_id must name a book."""
        if crud.get_book(book_id) is None:
            raise ValidationError(f"there is no book with id {book_id}")


    @post_load
    def find_book(self, data, **kwargs):
        """Put the Book itself under ``book``; a null body becomes the empty text."""
        if "book_id" in data:
            data["book"] = crud.get_book(data.pop("book_id"))
        if "body" in data and data["body"] is None:
            data["body"] = ""
        return data



class NamedReviewSchema(ReviewSchema):
    """A new review that names its writer: the body of ``POST /reviews`` with LOGIN_DISABLED."""

    username = Rule(username, required=True)
