"""The books: /books, /books/<id> and /books/author/<name>, as resources."""

from flask import Response, request, url_for
from flask_restful import Resource

from . import crud
from .auth import role_required
from .db import db
from .models import Author, Book
from .validation import (
    MAX_INTEGER,
    InvalidFields,
    identifier,
    isbn,
    json_body,
    person_name,
    publication_year,
    title,
    validate,
)

# The fields a client may send for a book, and the rule each one must meet.
BOOK_FIELDS = {
    "title": title,
    "year": publication_year,
    "author": person_name,
    "author_id": identifier,
    "isbn": isbn,
}


def book_or_404(book_id):
    """Return the book with this id, or stop with a 404."""
    return db.get_or_404(Book, book_id, description=f"There is no book with id {book_id}.")


def author_for(values):
    """Return the Author that validated book fields name, or None when they name none.

    ``author_id`` must be an existing author; ``author`` is a name, found or new. A new author
    is not saved here: it is saved together with the book, in the same commit.
    """
    if "author_id" in values:
        found = crud.get_author(values["author_id"])
        if found is None:
            raise InvalidFields({"author_id": f"there is no author with id {values['author_id']}"})
        return found
    if "author" in values:
        name = values["author"]
        return crud.find_author(name) or Author(name=name)
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


class BookList(Resource):
    """The collection ``/books``: GET lists (``?q=``, ``?limit=``), POST creates."""

    def get(self):
        """List the books; ``?q=`` keeps titles containing it, ``?limit=`` caps the count."""
        return [book.to_dict() for book in list_books_filtered()]

    @role_required("librarian")
    def post(self):
        """Create a book from ``{"title", "author" or "author_id", "year", "isbn"}``; 201.

        A taken ISBN is left to the unique constraint: the commit raises IntegrityError, which
        errors.py answers with a 409 naming ``isbn``.
        """
        values = validate(json_body(), BOOK_FIELDS, required=("title",))
        author = author_for(values)
        if author is None:
            raise InvalidFields({"author": "give the author's name, or an author_id"})
        book = crud.create_book(values["title"], author, values.get("year"), values.get("isbn"))
        return book.to_dict(), 201, {"Location": url_for("book", book_id=book.id)}


class BookItem(Resource):
    """One book, ``/books/<id>``: GET, PATCH and DELETE."""

    def get(self, book_id):
        """Return one book, or 404."""
        return book_or_404(book_id).to_dict()

    @role_required("librarian")
    def patch(self, book_id):
        """Change only the fields present in the body (title, year, isbn, author or author_id)."""
        book = book_or_404(book_id)
        values = validate(json_body(), BOOK_FIELDS, partial=True)
        changes = {name: values[name] for name in ("title", "year", "isbn") if name in values}
        author = author_for(values)
        if author is not None:
            changes["author"] = author
        crud.update_book(book, **changes)
        return book.to_dict()

    @role_required("librarian")
    def delete(self, book_id):
        """Delete a book and its reviews; answer 204 with an empty body."""
        crud.delete_book(book_or_404(book_id))
        return Response(status=204)


class BooksByAuthor(Resource):
    """``/books/author/<name>``: the books of one author, read-only."""

    def get(self, name):
        """List the books by one author, ignoring case; an unknown author has none."""
        return [book.to_dict() for book in crud.books_by_author_name(name)]
