"""The API root: one small route that tells a client what the API offers."""

from flask import Blueprint

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    """Name the API and list its endpoints."""
    # A dict returned from a view becomes a JSON response; no jsonify needed.
    return {
        "name": "Bookshelf API",
        "endpoints": {
            "authors": "/authors",
            "author": "/authors/<author_id>",
            "books": "/books",
            "book": "/books/<book_id>",
            "books_by_author": "/books/author/<name>",
            "reviews": "/reviews",
            "review": "/reviews/<review_id>",
        },
    }
