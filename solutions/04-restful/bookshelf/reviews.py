"""The reviews: /reviews and /reviews/<id>, as the resources ReviewList and ReviewItem.

A review names its book by ``book_id`` and its writer by ``username``; a new username creates
the user, so the API needs no separate sign-up (that comes with authentication, later).

Lab 03's blueprint views come first: they serve the API until ``create_app`` registers the
resources instead (lab 04's work); after that nothing calls them and they can be deleted.
"""

from flask import Blueprint, Response, request, url_for
from flask_restful import Resource

from . import crud
from .db import db
from .models import Review
from .validation import (
    InvalidFields,
    identifier,
    json_body,
    optional_text,
    query_id,
    rating,
    text,
    validate,
)

bp = Blueprint("reviews", __name__)

REVIEW_FIELDS = {"book_id": identifier, "username": text, "rating": rating, "body": optional_text}


def review_or_404(review_id):
    """Return the review with this id, or stop with a 404."""
    return db.get_or_404(Review, review_id, description=f"There is no review with id {review_id}.")


REVIEW_CHANGES = {"rating": rating, "body": optional_text}


def reviews_filtered():
    """The reviews, only those of one book with ``?book_id=`` (an unknown book has none)."""
    if "book_id" not in request.args:
        return crud.list_reviews()
    book_id = query_id("book_id")
    book = crud.get_book(book_id) if book_id else None
    return [] if book is None else crud.list_reviews(book=book)


# --- lab 03's views (no longer registered once the resources are) ----------------------------


@bp.get("/reviews")
def list_reviews():
    """List the reviews, only those of one book with ``?book_id=``."""
    return [review.to_dict() for review in reviews_filtered()]


@bp.post("/reviews")
def create_review():
    """Create a review from ``{"book_id", "username", "rating", "body"}``; answer 201."""
    values = validate(json_body(), REVIEW_FIELDS, required=("book_id", "username", "rating"))
    book = crud.get_book(values["book_id"])
    if book is None:
        raise InvalidFields({"book_id": f"there is no book with id {values['book_id']}"})
    username = values["username"]
    user = crud.find_user(username) or crud.create_user(username)
    # A second review by the same user breaks the unique constraint: IntegrityError, so 409.
    review = crud.add_review(user, book, values["rating"], values.get("body") or "")
    location = url_for("reviews.get_review", review_id=review.id)
    return review.to_dict(), 201, {"Location": location}


@bp.get("/reviews/<int:review_id>")
def get_review(review_id):
    """Return one review, or 404."""
    return review_or_404(review_id).to_dict()


@bp.patch("/reviews/<int:review_id>")
def update_review(review_id):
    """Change the rating and/or the body of a review."""
    review = review_or_404(review_id)
    values = validate(json_body(), REVIEW_CHANGES, partial=True)
    if "body" in values and values["body"] is None:
        values["body"] = ""
    crud.update_review(review, **values)
    return review.to_dict()


@bp.delete("/reviews/<int:review_id>")
def delete_review(review_id):
    """Delete a review; answer 204 with an empty body."""
    crud.delete_review(review_or_404(review_id))
    return "", 204


# --- lab 04's resources: one class per URL, one method per HTTP method -----------------------


class ReviewList(Resource):
    """The collection ``/reviews``: GET lists (``?book_id=``), POST creates."""

    def get(self):
        """List the reviews, only those of one book with ``?book_id=``."""
        # TODO(04-restful): answer the to_dict() of reviews_filtered().
        ### BEGIN SOLUTION
        return [review.to_dict() for review in reviews_filtered()]
        ### END SOLUTION

    def post(self):
        """Create a review from ``{"book_id", "username", "rating", "body"}``; answer 201."""
        # TODO(04-restful): validate; unknown book_id is InvalidFields; create; 201 + Location.
        ### BEGIN SOLUTION
        values = validate(json_body(), REVIEW_FIELDS, required=("book_id", "username", "rating"))
        book = crud.get_book(values["book_id"])
        if book is None:
            raise InvalidFields({"book_id": f"there is no book with id {values['book_id']}"})
        username = values["username"]
        user = crud.find_user(username) or crud.create_user(username)
        # A second review by the same user raises IntegrityError, which errors.py makes a 409.
        review = crud.add_review(user, book, values["rating"], values.get("body") or "")
        return review.to_dict(), 201, {"Location": url_for("review", review_id=review.id)}
        ### END SOLUTION


class ReviewItem(Resource):
    """One review, ``/reviews/<id>``: GET, PATCH and DELETE."""

    def get(self, review_id):
        """Return one review, or 404."""
        # TODO(04-restful): answer the review's to_dict(), or 404.
        ### BEGIN SOLUTION
        return review_or_404(review_id).to_dict()
        ### END SOLUTION

    def patch(self, review_id):
        """Change the rating and/or the body of a review."""
        # TODO(04-restful): find (404), validate REVIEW_CHANGES (partial), update, answer 200.
        ### BEGIN SOLUTION
        review = review_or_404(review_id)
        values = validate(json_body(), REVIEW_CHANGES, partial=True)
        if "body" in values and values["body"] is None:
            values["body"] = ""
        crud.update_review(review, **values)
        return review.to_dict()
        ### END SOLUTION

    def delete(self, review_id):
        """Delete a review; answer 204 with an empty body."""
        # TODO(04-restful): find (404), delete, answer an empty 204.
        ### BEGIN SOLUTION
        crud.delete_review(review_or_404(review_id))
        return Response(status=204)
        ### END SOLUTION
