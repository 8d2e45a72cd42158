"""Lab 07's hand-written input checks for authors, books and reviews, kept for lab 08.

The marshmallow schemas in schemas.py replace them. Until you finish a TODO(08-marshmallow) in a
resource, its place calls the function here (and the models' ``to_dict``), so the API keeps
answering as in lab 07 while you work. Once every TODO is done, nothing imports this module: the
reference solution keeps it only so the lab starts from a working API.
"""

from . import crud
from .models import Author
from .validation import (
    InvalidFields,
    free_text,
    identifier,
    isbn,
    person_name,
    publication_year,
    rating,
    title,
    username,
    validate,
)

# The fields a client may send, and the rule each one must meet.
AUTHOR_FIELDS = {"name": person_name, "bio": free_text}
BOOK_FIELDS = {
    "title": title,
    "year": publication_year,
    "author": person_name,
    "author_id": identifier,
    "isbn": isbn,
}
NAMED_REVIEW_FIELDS = {
    "book_id": identifier,
    "username": username,
    "rating": rating,
    "body": free_text,
}
# What a logged-in writer sends: no username, since the session says who is writing.
REVIEW_FIELDS = {"book_id": identifier, "rating": rating, "body": free_text}
REVIEW_CHANGES = {"rating": rating, "body": free_text}


def author_fields(body, partial=False):
    """The name and bio of an author from a request body (422 naming each bad field)."""
    return validate(body, AUTHOR_FIELDS, required=("name",), partial=partial)


def author_with_books(author):
    """An author's ``to_dict()`` plus their books' (the answer of GET /authors/<id>)."""
    return {**author.to_dict(), "books": [book.to_dict() for book in author.books]}


def author_for(values):
    """Return the Author that validated book fields name, or None when they name none."""
    if "author_id" in values:
        found = crud.get_author(values["author_id"])
        if found is None:
            raise InvalidFields({"author_id": f"there is no author with id {values['author_id']}"})
        return found
    if "author" in values:
        name = values["author"]
        return crud.find_author(name) or Author(name=name)
    return None


def book_fields(body, partial=False):
    """title, year, isbn and ``author`` (the Author itself) from a request body."""
    values = validate(body, BOOK_FIELDS, required=("title",), partial=partial)
    author = author_for(values)
    values.pop("author_id", None)
    if author is not None:
        values["author"] = author
    elif not partial:
        raise InvalidFields({"author": "give the author's name, or an author_id"})
    return values


def review_fields(body, checks=REVIEW_FIELDS, required=("book_id", "rating")):
    """``book`` (the Book itself), rating and body of a new review from a request body."""
    values = validate(body, checks, required=required)
    book = crud.get_book(values.pop("book_id"))
    if book is None:
        raise InvalidFields({"book_id": f"there is no book with id {body['book_id']}"})
    values["book"] = book
    values["body"] = values.get("body") or ""
    return values


def named_review_fields(body):
    """As review_fields, plus the writer's ``username`` (the API with LOGIN_DISABLED)."""
    return review_fields(body, NAMED_REVIEW_FIELDS, ("book_id", "username", "rating"))


def review_changes(body):
    """The rating and/or body a PATCH changes; a null body is the empty text."""
    values = validate(body, REVIEW_CHANGES, partial=True)
    if "body" in values and values["body"] is None:
        values["body"] = ""
    return values
