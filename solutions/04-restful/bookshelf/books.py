"""The books: /books, /books/<id> and /books/author/<name>, as resources.

Lab 03's blueprint views come first: they serve the API until ``create_app`` registers the
resources instead (lab 04's work); after that nothing calls them and they can be deleted.
"""

from flask import Blueprint, Response, request, url_for
from flask_restful import Resource

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
        found = crud.get_author(values["author_id"])
        if found is None:
            raise InvalidFields({"author_id": f"there is no author with id {values['author_id']}"})
        return found
    if "author" in values:
        return crud.find_author(values["author"]) or crud.create_author(values["author"])
    return None


def list_books_filtered():
    """The books matching ``?q=`` (title contains), at most ``?limit=`` of them."""
    text = request.args.get("q", "").strip()
    # type=int turns "abc" into None instead of raising, so a bad limit is ignored.
    limit = request.args.get("limit", type=int)
    if limit is not None and not 0 <= limit <= MAX_INTEGER:
        limit = None
    # The filter and the limit become part of the SQL query: only the wanted rows are loaded.
    return crud.list_books(title_contains=text, limit=limit)


# --- lab 03's views (no longer registered once the resources are) ----------------------------


@bp.get("/books")
def list_books():
    """List the books; ``?q=`` keeps titles containing it, ``?limit=`` caps the count."""
    return [book.to_dict() for book in list_books_filtered()]


@bp.post("/books")
def create_book():
    """Create a book from ``{"title", "author" or "author_id", "year"}``; answer 201."""
    values = validate(json_body(), BOOK_FIELDS, required=("title",))
    author = author_for(values)
    if author is None:
        raise InvalidFields({"author": "give the author's name, or an author_id"})
    book = crud.create_book(values["title"], author, values.get("year"))
    return book.to_dict(), 201, {"Location": url_for("books.get_book", book_id=book.id)}


@bp.get("/books/<int:book_id>")
def get_book(book_id):
    """Return one book, or 404."""
    return book_or_404(book_id).to_dict()


@bp.patch("/books/<int:book_id>")
def update_book(book_id):
    """Change only the fields present in the body (title, year, author or author_id)."""
    book = book_or_404(book_id)
    values = validate(json_body(), BOOK_FIELDS, partial=True)
    changes = {name: values[name] for name in ("title", "year") if name in values}
    author = author_for(values)
    if author is not None:
        changes["author"] = author
    crud.update_book(book, **changes)
    return book.to_dict()


@bp.delete("/books/<int:book_id>")
def delete_book(book_id):
    """Delete a book and its reviews; answer 204 with an empty body."""
    crud.delete_book(book_or_404(book_id))
    return "", 204


@bp.get("/books/author/<name>")
def books_by_author(name):
    """List the books by one author, ignoring case; an unknown author has none."""
    return [book.to_dict() for book in crud.books_by_author_name(name)]


# --- lab 04's resources: one class per URL, one method per HTTP method -----------------------


class BookList(Resource):
    """The collection ``/books``: GET lists (``?q=``, ``?limit=``), POST creates."""

    def get(self):
        """List the books; ``?q=`` keeps titles containing it, ``?limit=`` caps the count."""
        # TODO(04-restful): answer the to_dict() of list_books_filtered().
        ### BEGIN SOLUTION
        return [book.to_dict() for book in list_books_filtered()]
        ### END SOLUTION

    def post(self):
        """Create a book from ``{"title", "author" or "author_id", "year"}``; answer 201."""
        # TODO(04-restful): validate, find the author (422 if none), create; 201 + Location.
        ### BEGIN SOLUTION
        values = validate(json_body(), BOOK_FIELDS, required=("title",))
        author = author_for(values)
        if author is None:
            raise InvalidFields({"author": "give the author's name, or an author_id"})
        book = crud.create_book(values["title"], author, values.get("year"))
        return book.to_dict(), 201, {"Location": url_for("book", book_id=book.id)}
        ### END SOLUTION


class BookItem(Resource):
    """One book, ``/books/<id>``: GET, PATCH and DELETE."""

    def get(self, book_id):
        """Return one book, or 404."""
        # TODO(04-restful): answer the book's to_dict(), or 404.
        ### BEGIN SOLUTION
        return book_or_404(book_id).to_dict()
        ### END SOLUTION

    def patch(self, book_id):
        """Change only the fields present in the body (title, year, author or author_id)."""
        # TODO(04-restful): find (404), validate a partial body, apply the changes, answer 200.
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

    def delete(self, book_id):
        """Delete a book and its reviews; answer 204 with an empty body."""
        # TODO(04-restful): find (404), delete, answer an empty 204 Response.
        ### BEGIN SOLUTION
        crud.delete_book(book_or_404(book_id))
        return Response(status=204)
        ### END SOLUTION


class BooksByAuthor(Resource):
    """``/books/author/<name>``: the books of one author, read-only (a worked example)."""

    def get(self, name):
        """List the books by one author, ignoring case; an unknown author has none."""
        # A resource method returns data; the Api turns it into a JSON response.
        return [book.to_dict() for book in crud.books_by_author_name(name)]
