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
from .models import Review, User

# TODO(08-marshmallow): import the schemas; lab 07's hand-written checks are then unused.
### BEGIN SOLUTION stub: from . import handwritten
from .schemas import NamedReviewSchema, ReviewSchema

### END SOLUTION
from .validation import json_body, query_id

# TODO(08-marshmallow): the schema instances: one for a review, one for lists (many=True), one
# for changes (only rating and body), and a NamedReviewSchema for reviews that name their writer.
### BEGIN SOLUTION remove
review_schema = ReviewSchema()
reviews_schema = ReviewSchema(many=True)
review_changes_schema = ReviewSchema(only=("rating", "body"))
named_review_schema = NamedReviewSchema()
### END SOLUTION


def review_or_404(review_id):
    """Return the review with this id, or stop with a 404."""
    return db.get_or_404(Review, review_id, description=f"There is no review with id {review_id}.")


def new_review_and_writer(body):
    """Return the loaded fields of a new review (``book``, rating, body) and its writer."""
    if current_user.is_authenticated:
        # TODO(08-marshmallow): load the body with review_schema.
        ### BEGIN SOLUTION stub: values = handwritten.review_fields(body)
        values = review_schema.load(body)
        ### END SOLUTION
        # current_user is a proxy; the session needs the User object behind it.
        return values, current_user._get_current_object()
    # TODO(08-marshmallow): load the body with named_review_schema.
    ### BEGIN SOLUTION stub: values = handwritten.named_review_fields(body)
    values = named_review_schema.load(body)
    ### END SOLUTION
    name = values.pop("username")
    # A new User is saved in the same commit as the review, so a refused review leaves no user.
    return values, crud.find_user(name) or User(username=name)


def reviews_filtered():
    """The reviews, only those of one book with ``?book_id=`` (an unknown book has none)."""
    if "book_id" not in request.args:
        return crud.list_reviews()
    book_id = query_id("book_id")
    book = crud.get_book(book_id) if book_id else None
    return [] if book is None else crud.list_reviews(book=book)


class ReviewList(Resource):
    """The collection ``/reviews``: GET lists (``?book_id=``), POST creates."""

    def get(self):
        """List the reviews, only those of one book with ``?book_id=``."""
        # TODO(08-marshmallow): dump the list with reviews_schema.
        ### BEGIN SOLUTION stub: return [review.to_dict() for review in reviews_filtered()]
        return reviews_schema.dump(reviews_filtered())
        ### END SOLUTION

    @login_required
    def post(self):
        """Create a review from ``{"book_id", "rating", "body"}``; answer 201."""
        values, user = new_review_and_writer(json_body())
        # A second review by the same user breaks uq_reviews_user_id_book_id: a 409 naming book_id.
        review = crud.add_review(user, **values)
        # TODO(08-marshmallow): answer with review_schema's dump.
        ### BEGIN SOLUTION stub: answer = review.to_dict()
        answer = review_schema.dump(review)
        ### END SOLUTION
        return answer, 201, {"Location": url_for("review", review_id=review.id)}


class ReviewItem(Resource):
    """One review, ``/reviews/<id>``: GET, PATCH and DELETE."""

    def get(self, review_id):
        """Return one review, or 404."""
        # TODO(08-marshmallow): dump the review with review_schema.
        ### BEGIN SOLUTION stub: return review_or_404(review_id).to_dict()
        return review_schema.dump(review_or_404(review_id))
        ### END SOLUTION

    @login_required
    def patch(self, review_id):
        """Change the rating and/or the body of a review; only its writer may (403)."""
        review = review_or_404(review_id)
        # Nobody but the writer changes a review's words, not even an admin.
        require_owner(review.user_id)
        # TODO(08-marshmallow): load the body with review_changes_schema, partial=True.
        ### BEGIN SOLUTION stub: changes = handwritten.review_changes(json_body())
        changes = review_changes_schema.load(json_body(), partial=True)
        ### END SOLUTION
        crud.update_review(review, **changes)
        # TODO(08-marshmallow): answer with review_schema's dump.
        ### BEGIN SOLUTION stub: return review.to_dict()
        return review_schema.dump(review)
        ### END SOLUTION

    @login_required
    def delete(self, review_id):
        """Delete a review (its writer, or an admin); answer 204 with an empty body."""
        review = review_or_404(review_id)
        # The writer, or an admin (moderation).
        require_owner(review.user_id, or_role="admin")
        crud.delete_review(review)
        return Response(status=204)
