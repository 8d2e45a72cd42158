"""The API root: tells a client what the API offers."""

from flask_restful import Resource


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
            "users": "/users",
            "user": "/users/<user_id>",
            "signup": "/auth/signup",
            "login": "/auth/login",
            "logout": "/auth/logout",
            "me": "/auth/me",
        },
    }


class Index(Resource):
    """The API root ``/`` as a resource: a worked example of the smallest one."""

    def get(self):
        """Name the API and list its endpoints."""
        # The Api turns returned data into JSON, as a plain view's dict did.
        return describe_api()
