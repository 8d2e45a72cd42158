"""The books: /books, /books/<id> and /books/author/<name>, as resources."""

from flask import Response, request, url_for
from flask_restful import Resource

from . import crud
from .auth import role_required
from .db import db
from .hypermedia import book_links, paginated, resources, with_links
from .models import Book
from .schemas import BookSchema
from .validation import json_body, query_id

book_schema = BookSchema()
# A book in a list, without its reviews.
listed_book_schema = BookSchema(exclude=("reviews",))


def book_or_404(book_id):
    """Return the book with this id, or stop with a 404."""
    return db.get_or_404(Book, book_id, description=f"There is no book with id {book_id}.")


def book_resource(book, schema=book_schema):
    """A book as the API sends it: the schema's dump and the book's links."""
    return with_links(schema.dump(book), book_links(book))


def author_filter():
    """The author ``?author_id=`` names: None when absent, 0 (nobody) when it is not an id."""
    if "author_id" not in request.args:
        return None
    return query_id("author_id") or 0


def limited(rows):
    """At most ``?limit=`` of ``rows`` (the cap of the earlier labs, kept for their clients)."""
    # type=int: a limit that is not a number becomes the default, None, and rows[:None] is all.
    limit = request.args.get("limit", default=None, type=int)
    if limit is not None and limit < 0:
        limit = None
    return rows[:limit]


def book_page(query):
    """One page of the books ``query`` selects, as the API sends it: resources and headers."""
    books, headers = paginated(query)
    return resources(listed_book_schema, limited(books), book_links), 200, headers


class BookList(Resource):
    """The collection ``/books``: GET lists (``?q=``, ``?limit=``), POST creates."""

    def get(self):
        """List the books; ``?q=`` keeps titles containing it, ``?limit=`` caps the count."""
        title_contains = request.args.get("q", "").strip()
        return book_page(crud.books_query(title_contains, author_filter()))

    @role_required("librarian")
    def post(self):
        """Create a book from ``{"title", "author" or "author_id", "year", "isbn"}``; 201.

        A taken ISBN is left to the unique constraint: the commit raises IntegrityError, which
        errors.py answers with a 409 naming ``isbn``.
        """
        values = book_schema.load(json_body())
        book = crud.create_book(**values)
        answer = book_resource(book)
        return answer, 201, {"Location": url_for("book", book_id=book.id)}


class BookItem(Resource):
    """One book, ``/books/<id>``: GET, PATCH and DELETE."""

    def get(self, book_id):
        """Return one book with its reviews, or 404."""
        return book_resource(book_or_404(book_id))

    @role_required("librarian")
    def patch(self, book_id):
        """Change only the fields present in the body (title, year, isbn, author or author_id)."""
        book = book_or_404(book_id)
        changes = book_schema.load(json_body(), partial=True)
        crud.update_book(book, **changes)
        return book_resource(book)

    @role_required("librarian")
    def delete(self, book_id):
        """Delete a book and its reviews; answer 204 with an empty body."""
        crud.delete_book(book_or_404(book_id))
        return Response(status=204)


class BooksByAuthor(Resource):
    """``/books/author/<name>``: the books of one author, read-only."""

    def get(self, name):
        """List the books by one author, ignoring case; an unknown author has none."""
        return book_page(crud.books_by_author_name_query(name))
