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
from .hypermedia import paginated, review_resource
from .models import Review, User
from .validation import (
    InvalidFields,
    free_text,
    identifier,
    json_body,
    query_id,
    rating,
    username,
    validate,
)

REVIEW_FIELDS = {"book_id": identifier, "username": username, "rating": rating, "body": free_text}
REVIEW_CHANGES = {"rating": rating, "body": free_text}
# What a logged-in writer sends: no username, since the session says who is writing.
OWN_REVIEW_FIELDS = {"book_id": identifier, "rating": rating, "body": free_text}


def review_or_404(review_id):
    """Return the review with this id, or stop with a 404."""
    return db.get_or_404(Review, review_id, description=f"There is no review with id {review_id}.")


def new_review_and_writer(body):
    """Return the validated fields of a new review and the User who writes it."""
    if current_user.is_authenticated:
        values = validate(body, OWN_REVIEW_FIELDS, required=("book_id", "rating"))
        # current_user is a proxy; the session needs the User object behind it.
        return values, current_user._get_current_object()
    values = validate(body, REVIEW_FIELDS, required=("book_id", "username", "rating"))
    name = values["username"]
    # A new User is saved in the same commit as the review, so a refused review leaves no user.
    return values, crud.find_user(name) or User(username=name)


def reviews_query():
    """The query of the reviews, only those of one book with ``?book_id=`` (an unknown book, or
    a value that is no id, has none)."""
    if "book_id" not in request.args:
        return crud.reviews_query()
    return crud.reviews_query(book_id=query_id("book_id") or 0)


class ReviewList(Resource):
    """The collection ``/reviews``: GET lists (``?book_id=``), POST creates."""

    def get(self):
        """List one page of the reviews, only those of one book with ``?book_id=``."""
        reviews, headers = paginated(reviews_query())
        return [review_resource(review) for review in reviews], 200, headers

    @login_required
    def post(self):
        """Create a review from ``{"book_id", "rating", "body"}``; answer 201."""
        values, user = new_review_and_writer(json_body())
        book = crud.get_book(values["book_id"])
        if book is None:
            raise InvalidFields({"book_id": f"there is no book with id {values['book_id']}"})
        # A second review by the same user breaks uq_reviews_user_id_book_id: a 409 naming book_id.
        review = crud.add_review(user, book, values["rating"], values.get("body") or "")
        return review_resource(review), 201, {"Location": url_for("review", review_id=review.id)}


class ReviewItem(Resource):
    """One review, ``/reviews/<id>``: GET, PATCH and DELETE."""

    def get(self, review_id):
        """Return one review, or 404."""
        return review_resource(review_or_404(review_id))

    @login_required
    def patch(self, review_id):
        """Change the rating and/or the body of a review; only its writer may (403)."""
        review = review_or_404(review_id)
        require_owner(review.user_id)
        values = validate(json_body(), REVIEW_CHANGES, partial=True)
        if "body" in values and values["body"] is None:
            values["body"] = ""
        crud.update_review(review, **values)
        return review_resource(review)

    @login_required
    def delete(self, review_id):
        """Delete a review (its writer, or an admin); answer 204 with an empty body."""
        review = review_or_404(review_id)
        require_owner(review.user_id, or_role="admin")
        crud.delete_review(review)
        return Response(status=204)
