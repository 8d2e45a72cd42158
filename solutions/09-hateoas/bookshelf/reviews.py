"""The reviews: /reviews and /reviews/<id>, as the resources ReviewList and ReviewItem.

A review names its book by ``book_id``; its writer is the logged-in user. Only the writer may
change a review; the writer or an admin may delete it. With LOGIN_DISABLED (the clients of the
API from before accounts existed) the body names the writer by ``username`` instead, and a new
name creates the user.
"""

from flask import Response, request, url_for
from flask_login import current_user, login_required
from flask_restful import Resource

from . import crud
from .auth import require_owner
from .db import db
from .hypermedia import paginated, resources, review_links, with_links
from .models import Review, User
from .schemas import NamedReviewSchema, ReviewSchema
from .validation import json_body, query_id

review_schema = ReviewSchema()
review_changes_schema = ReviewSchema(only=("rating", "body"))
named_review_schema = NamedReviewSchema()


def review_or_404(review_id):
    """Return the review with this id, or stop with a 404."""
    return db.get_or_404(Review, review_id, description=f"There is no review with id {review_id}.")


def new_review_and_writer(body):
    """Return the loaded fields of a new review (``book``, rating, body) and its writer."""
    if current_user.is_authenticated:
        values = review_schema.load(body)
        # current_user is a proxy; the session needs the User object behind it.
        return values, current_user._get_current_object()
    values = named_review_schema.load(body)
    name = values.pop("username")
    # A new User is saved in the same commit as the review, so a refused review leaves no user.
    return values, crud.find_user(name) or User(username=name)


def review_resource(review):
    """A review as the API sends it: the schema's dump and the review's links."""
    return with_links(review_schema.dump(review), review_links(review))


def reviews_query():
    """The query of the reviews, only those of one book with ``?book_id=`` (an unknown book, or
    a value that is no id, has none)."""
    if "book_id" not in request.args:
        return crud.reviews_query()
    return crud.reviews_query(book_id=query_id("book_id") or 0)


class ReviewList(Resource):
    """The collection ``/reviews``: GET lists (``?book_id=``), POST creates."""

    def get(self):
        """List the reviews, only those of one book with ``?book_id=``."""
        reviews, headers = paginated(reviews_query())
        return resources(review_schema, reviews, review_links), 200, headers

    @login_required
    def post(self):
        """Create a review from ``{"book_id", "rating", "body"}``; answer 201."""
        values, user = new_review_and_writer(json_body())
        # A second review by the same user breaks uq_reviews_user_id_book_id: a 409 naming book_id.
        review = crud.add_review(user, **values)
        answer = review_resource(review)
        return answer, 201, {"Location": url_for("review", review_id=review.id)}


class ReviewItem(Resource):
    """One review, ``/reviews/<id>``: GET, PATCH and DELETE."""

    def get(self, review_id):
        """Return one review, or 404."""
        return review_resource(review_or_404(review_id))

    @login_required
    def patch(self, review_id):
        """Change the rating and/or the body of a review; only its writer may (403)."""
        review = review_or_404(review_id)
        # Nobody but the writer changes a review's words, not even an admin.
        require_owner(review.user_id)
        changes = review_changes_schema.load(json_body(), partial=True)
        crud.update_review(review, **changes)
        return review_resource(review)

    @login_required
    def delete(self, review_id):
        """Delete a review (its writer, or an admin); answer 204 with an empty body."""
        review = review_or_404(review_id)
        # The writer, or an admin (moderation).
        require_owner(review.user_id, or_role="admin")
        crud.delete_review(review)
        return Response(status=204)
