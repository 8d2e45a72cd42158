"""The Flask-RESTful Api: the resources at their URLs, and errors left to Flask.

Flask-RESTful's ``Api`` answers the errors of its own endpoints itself: an ``abort(404)`` in a
resource becomes ``{"message": ...}`` instead of problem details, and with ``TESTING`` off any
other exception (an ``IntegrityError``, say) becomes a bare 500. ``ProblemApi`` hands every error
back to Flask, so the handlers in ``errors.py`` answer in tests and in production alike.
"""

from flask_restful import Api


class ProblemApi(Api):
    """An Api whose errors are answered by the app's own error handlers."""

    def handle_error(self, e):
        """Re-raise ``e``: Api.error_router then passes it on to Flask's error handling."""
        raise e


def init_app(app):
    """Add every resource to a new ProblemApi and bind it to ``app``.

    The endpoint names are those the API root lists; ``url_for("author", author_id=1)`` uses them.
    """
    from .authors import AuthorItem, AuthorList
    from .books import BookItem, BookList, BooksByAuthor
    from .main import Index
    from .reviews import ReviewItem, ReviewList
    from .users import UserItem, UserList

    api = ProblemApi()
    api.add_resource(Index, "/", endpoint="index")
    api.add_resource(BooksByAuthor, "/books/author/<name>", endpoint="books_by_author")
    api.add_resource(AuthorList, "/authors", endpoint="authors")
    api.add_resource(AuthorItem, "/authors/<int:author_id>", endpoint="author")
    api.add_resource(BookList, "/books", endpoint="books")
    api.add_resource(BookItem, "/books/<int:book_id>", endpoint="book")
    api.add_resource(ReviewList, "/reviews", endpoint="reviews")
    api.add_resource(ReviewItem, "/reviews/<int:review_id>", endpoint="review")
    api.add_resource(UserList, "/users", endpoint="users")
    api.add_resource(UserItem, "/users/<int:user_id>", endpoint="user")
    api.init_app(app)
