"""The reviews endpoints: /reviews and /reviews/<id>.

A review names its book by ``book_id`` and its writer by ``username``; a new username creates
the user, so the API needs no separate sign-up (that comes with authentication, later).
"""

from flask import Blueprint, request, url_for

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


@bp.get("/reviews")
def list_reviews():
    """List the reviews, only those of one book with ``?book_id=``."""
    # TODO(03-crud-api): filter by ?book_id= when given (an unknown book has no reviews).
    ### BEGIN SOLUTION
    book = None
    if "book_id" in request.args:
        book_id = query_id("book_id")
        book = crud.get_book(book_id) if book_id else None
        if book is None:
            return []
    return [review.to_dict() for review in crud.list_reviews(book=book)]
    ### END SOLUTION


@bp.post("/reviews")
def create_review():
    """Create a review from ``{"book_id", "username", "rating", "body"}``; answer 201."""
    # TODO(03-crud-api): validate; an unknown book_id is InvalidFields; create; 201 + Location.
    ### BEGIN SOLUTION
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
    ### END SOLUTION


@bp.get("/reviews/<int:review_id>")
def get_review(review_id):
    """Return one review, or 404."""
    # TODO(03-crud-api): answer the review's to_dict(), or 404.
    ### BEGIN SOLUTION
    return review_or_404(review_id).to_dict()
    ### END SOLUTION


@bp.patch("/reviews/<int:review_id>")
def update_review(review_id):
    """Change the rating and/or the body of a review."""
    # TODO(03-crud-api): find (404), validate rating/body only, update, answer 200.
    ### BEGIN SOLUTION
    review = review_or_404(review_id)
    values = validate(json_body(), {"rating": rating, "body": optional_text}, partial=True)
    if "body" in values and values["body"] is None:
        values["body"] = ""
    crud.update_review(review, **values)
    return review.to_dict()
    ### END SOLUTION


@bp.delete("/reviews/<int:review_id>")
def delete_review(review_id):
    """Delete a review; answer 204 with an empty body."""
    # TODO(03-crud-api): find (404), delete, answer 204.
    ### BEGIN SOLUTION
    crud.delete_review(review_or_404(review_id))
    return "", 204
    ### END SOLUTION
