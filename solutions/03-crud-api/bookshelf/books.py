"""The books endpoints: /books and /books/<id>, now stored in the database.

GET, POST and GET one are given as a worked example; PATCH and DELETE follow the same pattern.
"""

from flask import Blueprint, request, url_for

from . import crud
from .db import db
from .models import Book
from .validation import (
    MAX_INTEGER,
    InvalidFields,
    identifier,
    json_body,
    optional_whole_number,
    text,
    validate,
)

bp = Blueprint("books", __name__)

# The fields a client may send for a book, and how each one is checked.
BOOK_FIELDS = {
    "title": text,
    "year": optional_whole_number,
    "author": text,
    "author_id": identifier,
}


def book_or_404(book_id):
    """Return the book with this id, or stop with a 404."""
    return db.get_or_404(Book, book_id, description=f"There is no book with id {book_id}.")


def author_for(values):
    """Return the Author that validated book fields name, or None when they name none.

    ``author_id`` must be an existing author; ``author`` is a name, found or created.
    """
    if "author_id" in values:
        # TODO(03-crud-api): return the author with that id; an unknown id is InvalidFields.
        ### BEGIN SOLUTION
        found = crud.get_author(values["author_id"])
        if found is None:
            raise InvalidFields({"author_id": f"there is no author with id {values['author_id']}"})
        return found
        ### END SOLUTION
    if "author" in values:
        return crud.find_author(values["author"]) or crud.create_author(values["author"])
    return None


@bp.get("/books")
def list_books():
    """List the books; ``?q=`` keeps titles containing it, ``?limit=`` caps the count."""
    text = request.args.get("q", "").strip()
    # type=int turns "abc" into None instead of raising, so a bad limit is ignored.
    limit = request.args.get("limit", type=int)
    if limit is not None and not 0 <= limit <= MAX_INTEGER:
        limit = None
    # The filter and the limit become part of the SQL query: only the wanted rows are loaded.
    return [book.to_dict() for book in crud.list_books(title_contains=text, limit=limit)]


@bp.post("/books")
def create_book():
    """Create a book from ``{"title", "author" or "author_id", "year"}``; answer 201."""
    values = validate(json_body(), BOOK_FIELDS, required=("title",))
    author = author_for(values)
    if author is None:
        raise InvalidFields({"author": "give the author's name, or an author_id"})
    book = crud.create_book(values["title"], author, values.get("year"))
    # TODO(03-crud-api): point the Location header at the new book's URL (url_for).
    ### BEGIN SOLUTION stub: return book.to_dict(), 201
    return book.to_dict(), 201, {"Location": url_for("books.get_book", book_id=book.id)}
    ### END SOLUTION


@bp.get("/books/<int:book_id>")
def get_book(book_id):
    """Return one book, or 404."""
    return book_or_404(book_id).to_dict()


@bp.patch("/books/<int:book_id>")
def update_book(book_id):
    """Change only the fields present in the body (title, year, author or author_id)."""
    # TODO(03-crud-api): find the book (404), validate a partial body, apply the changes.
    ### BEGIN SOLUTION
    book = book_or_404(book_id)
    values = validate(json_body(), BOOK_FIELDS, partial=True)
    changes = {name: values[name] for name in ("title", "year") if name in values}
    author = author_for(values)
    if author is not None:
        changes["author"] = author
    crud.update_book(book, **changes)
    return book.to_dict()
    ### END SOLUTION


@bp.delete("/books/<int:book_id>")
def delete_book(book_id):
    """Delete a book and its reviews; answer 204 with an empty body."""
    # TODO(03-crud-api): find the book (404), delete it, answer 204 with an empty body.
    ### BEGIN SOLUTION
    crud.delete_book(book_or_404(book_id))
    return "", 204
    ### END SOLUTION


@bp.get("/books/author/<name>")
def books_by_author(name):
    """List the books by one author, ignoring case; an unknown author has none."""
    return [book.to_dict() for book in crud.books_by_author_name(name)]
