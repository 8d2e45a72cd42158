"""The API root: tells a client what the API offers (lab 03's view, then a resource)."""

from flask import Blueprint
from flask_restful import Resource

bp = Blueprint("main", __name__)


def describe_api():
    """Name the API and list its URLs."""
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


@bp.get("/")
def index():
    """Name the API and list its endpoints (lab 03's view)."""
    # A dict returned from a view becomes a JSON response; no jsonify needed.
    return describe_api()


class Index(Resource):
    """The API root ``/`` as a resource: a worked example of the smallest one."""

    def get(self):
        """Name the API and list its endpoints."""
        # The Api turns returned data into JSON, as a plain view's dict did.
        return describe_api()
