"""Routes about books: a collection at /books and one URL per book, kept in the database."""

from flask import Blueprint, request

from . import crud

# TODO(02-sqlalchemy): last step: delete this import once no route below uses lab 01's store.
### BEGIN SOLUTION stub: from . import store
### END SOLUTION

bp = Blueprint("books", __name__)

# SQLite (and PostgreSQL's BIGINT) store signed 64-bit integers; a bigger Python int overflows.
MAX_INTEGER = 2**63 - 1


def validate_new_book(data):
    """Return what is wrong with the body of a new book, or None when it is usable.

    A book needs a non-empty ``title`` and ``author``; ``year`` is optional but must be a whole
    number the database can store. ``bool`` is excluded on purpose: in Python ``True`` is an
    ``int``.
    """
    if not isinstance(data, dict):
        return "send a JSON object such as {'title': ..., 'author': ..., 'year': ...}"
    for field in ("title", "author"):
        value = data.get(field)
        if not isinstance(value, str) or not value.strip():
            return f"'{field}' must be a non-empty string"
    year = data.get("year")
    if year is not None and (
        isinstance(year, bool) or not isinstance(year, int) or abs(year) > MAX_INTEGER
    ):
        return "'year' must be a whole number"
    return None


def list_books():
    """Return the books, filtered by ``?q=`` (part of the title) and cut to ``?limit=``."""
    text = request.args.get("q", "").strip()
    # type=int turns "abc" into None instead of raising, so a bad limit is ignored.
    limit = request.args.get("limit", type=int)
    if limit is not None and not 0 <= limit <= MAX_INTEGER:
        limit = None
    # TODO(02-sqlalchemy): read the books from the database (crud.list_books), as dicts.
    ### BEGIN SOLUTION stub: books = store.list_books(text, limit)
    # The filter and the limit become part of the SQL query: only the wanted rows are loaded.
    books = [book.to_dict() for book in crud.list_books(title_contains=text, limit=limit)]
    ### END SOLUTION
    return books


def create_book():
    """Add the book in the JSON body and answer 201 with it, or 400 with an error."""
    # silent=True gives None for a missing or broken body instead of an HTML error page.
    data = request.get_json(silent=True)
    problem = validate_new_book(data)
    if problem:
        return {"error": problem}, 400
    title, name, year = data["title"].strip(), data["author"].strip(), data.get("year")
    # TODO(02-sqlalchemy): store the book in the database, written by the Author of that name
    # (find the author, or create one when there is none), as a dict.
    ### BEGIN SOLUTION stub: book = store.get_store().add(title, name, year)
    author = crud.find_author(name) or crud.create_author(name)
    book = crud.create_book(title, author, year).to_dict()
    ### END SOLUTION
    return book, 201


@bp.route("/books", methods=["GET", "POST"])
def books():
    """List the books (GET) or add one (POST); any other method gets 405."""
    if request.method == "POST":
        return create_book()
    return list_books()


# max= makes the converter refuse ids too big for the database: a 404, not an overflow.
@bp.get(f"/books/<int(max={MAX_INTEGER}):book_id>")
def get_book(book_id):
    """Return one book, or 404 with a JSON error."""
    # TODO(02-sqlalchemy): look the book up in the database (crud.get_book), as a dict or None.
    ### BEGIN SOLUTION stub: book = store.get_store().get(book_id)
    found = crud.get_book(book_id)
    book = found.to_dict() if found is not None else None
    ### END SOLUTION
    if book is None:
        return {"error": f"there is no book with id {book_id}"}, 404
    return book


@bp.get("/books/author/<name>")
def books_by_author(name):
    """List the books by one author, ignoring case; an unknown author has none."""
    # TODO(02-sqlalchemy): ask the database for that author's books (crud.books_by_author_name).
    ### BEGIN SOLUTION stub: return store.books_by_author(name)
    return [book.to_dict() for book in crud.books_by_author_name(name)]
    ### END SOLUTION
