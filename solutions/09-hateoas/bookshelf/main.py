"""The API root: tells a client what the API offers, and where to go from here."""

from flask_restful import Resource

from .hypermedia import api_links


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
        """Name the API, list its endpoints, and link to where the current user can go."""
        # "endpoints" is the map of the earlier labs, URL templates a client fills in itself;
        # "_links" are links it can follow as they are.
        return {**describe_api(), "_links": api_links()}
