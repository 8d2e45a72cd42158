"""Routes about books: a collection at /books and one URL per book."""

from flask import Blueprint, request

from .store import get_store

bp = Blueprint("books", __name__)


def validate_new_book(data):
    """Return what is wrong with the body of a new book, or None when it is usable.

    A book needs a non-empty ``title`` and ``author``; ``year`` is optional but must be a whole
    number. ``bool`` is excluded on purpose: in Python ``True`` is an ``int``.
    """
    if not isinstance(data, dict):
        return "send a JSON object such as {'title': ..., 'author': ..., 'year': ...}"
    for field in ("title", "author"):
        value = data.get(field)
        if not isinstance(value, str) or not value.strip():
            return f"'{field}' must be a non-empty string"
    year = data.get("year")
    if year is not None and (isinstance(year, bool) or not isinstance(year, int)):
        return "'year' must be a whole number"
    return None


def list_books():
    """Return the books, filtered by ``?q=`` (part of the title) and cut to ``?limit=``."""
    books = get_store().all()
    query = request.args.get("q", "").strip().lower()
    if query:
        books = [book for book in books if query in book["title"].lower()]
    # type=int turns "abc" into the default instead of raising, so a bad limit is ignored.
    limit = request.args.get("limit", type=int)
    if limit is not None and limit >= 0:
        books = books[:limit]
    return books


def create_book():
    """Add the book in the JSON body and answer 201 with it, or 400 with an error."""
    # silent=True gives None for a missing or broken body instead of an HTML error page.
    data = request.get_json(silent=True)
    problem = validate_new_book(data)
    if problem:
        return {"error": problem}, 400
    book = get_store().add(data["title"].strip(), data["author"].strip(), data.get("year"))
    return book, 201


@bp.route("/books", methods=["GET", "POST"])
def books():
    """List the books (GET) or add one (POST); any other method gets 405."""
    if request.method == "POST":
        return create_book()
    # A list is returned as a JSON array, just like a dict becomes an object.
    return list_books()


@bp.get("/books/<int:book_id>")
def get_book(book_id):
    """Return one book; the int converter already turned the URL part into an int."""
    book = get_store().get(book_id)
    if book is None:
        return {"error": f"there is no book with id {book_id}"}, 404
    return book


@bp.get("/books/author/<name>")
def books_by_author(name):
    """List the books by one author; the default string converter matches one path segment."""
    wanted = name.strip().lower()
    return [book for book in get_store().all() if book["author"].lower() == wanted]
