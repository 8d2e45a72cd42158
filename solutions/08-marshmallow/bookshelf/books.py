"""The books: /books, /books/<id> and /books/author/<name>, as resources."""

from flask import Response, request, url_for
from flask_restful import Resource

from . import crud
from .auth import role_required
from .db import db
from .models import Book

# TODO(08-marshmallow): import the schemas; lab 07's hand-written checks are then unused.
### BEGIN SOLUTION stub: from . import handwritten
from .schemas import BookSchema

### END SOLUTION
from .validation import MAX_INTEGER, json_body

# TODO(08-marshmallow): the schema instances: one for a book (with its reviews) and one for
# lists (many=True, without reviews).
### BEGIN SOLUTION remove
book_schema = BookSchema()
books_schema = BookSchema(many=True, exclude=("reviews",))
### END SOLUTION


def book_or_404(book_id):
    """Return the book with this id, or stop with a 404."""
    return db.get_or_404(Book, book_id, description=f"There is no book with id {book_id}.")


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
        # TODO(08-marshmallow): dump the list with books_schema.
        ### BEGIN SOLUTION stub: return [book.to_dict() for book in list_books_filtered()]
        return books_schema.dump(list_books_filtered())
        ### END SOLUTION

    @role_required("librarian")
    def post(self):
        """Create a book from ``{"title", "author" or "author_id", "year", "isbn"}``; 201.

        A taken ISBN is left to the unique constraint: the commit raises IntegrityError, which
        errors.py answers with a 409 naming ``isbn``.
        """
        # TODO(08-marshmallow): load the body with book_schema (a refused body raises
        # ValidationError: errors.py answers it) and answer with its dump.
        ### BEGIN SOLUTION stub: values = handwritten.book_fields(json_body())
        values = book_schema.load(json_body())
        ### END SOLUTION
        book = crud.create_book(**values)
        # TODO(08-marshmallow): ... and answer with book_schema's dump.
        ### BEGIN SOLUTION stub: answer = book.to_dict()
        answer = book_schema.dump(book)
        ### END SOLUTION
        return answer, 201, {"Location": url_for("book", book_id=book.id)}


class BookItem(Resource):
    """One book, ``/books/<id>``: GET, PATCH and DELETE."""

    def get(self, book_id):
        """Return one book with its reviews, or 404."""
        # TODO(08-marshmallow): dump the book with book_schema.
        ### BEGIN SOLUTION stub: return book_or_404(book_id).to_dict()
        return book_schema.dump(book_or_404(book_id))
        ### END SOLUTION

    @role_required("librarian")
    def patch(self, book_id):
        """Change only the fields present in the body (title, year, isbn, author or author_id)."""
        book = book_or_404(book_id)
        # TODO(08-marshmallow): load the body with book_schema, partial=True.
        ### BEGIN SOLUTION stub: changes = handwritten.book_fields(json_body(), partial=True)
        changes = book_schema.load(json_body(), partial=True)
        ### END SOLUTION
        crud.update_book(book, **changes)
        # TODO(08-marshmallow): answer with book_schema's dump.
        ### BEGIN SOLUTION stub: return book.to_dict()
        return book_schema.dump(book)
        ### END SOLUTION

    @role_required("librarian")
    def delete(self, book_id):
        """Delete a book and its reviews; answer 204 with an empty body."""
        crud.delete_book(book_or_404(book_id))
        return Response(status=204)


class BooksByAuthor(Resource):
    """``/books/author/<name>``: the books of one author, read-only."""

    def get(self, name):
        """List the books by one author, ignoring case; an unknown author has none."""
        # TODO(08-marshmallow): dump the list with books_schema.
        ### BEGIN SOLUTION stub: return [book.to_dict() for book in crud.books_by_author_name(name)]
        return books_schema.dump(crud.books_by_author_name(name))
        ### END SOLUTION
