"""The authors: /authors and /authors/<id>, as the resources AuthorList and AuthorItem.

Lab 03's blueprint views come first: they serve the API until ``create_app`` registers the
resources instead (lab 04's work); after that nothing calls them and they can be deleted.
"""

from flask import Blueprint, Response, abort, url_for
from flask_restful import Resource

from . import crud
from .db import db
from .models import Author
from .validation import json_body, optional_text, text, validate

bp = Blueprint("authors", __name__)

AUTHOR_FIELDS = {"name": text, "bio": optional_text}


def author_or_404(author_id):
    """Return the author with this id, or stop with a 404."""
    return db.get_or_404(Author, author_id, description=f"There is no author with id {author_id}.")


def refuse_taken_name(name, author=None):
    """Stop with 409 when another author than ``author`` already has this name."""
    other = crud.find_author(name)
    if other is not None and other is not author:
        abort(409, f"An author called {name!r} already exists (id {other.id}).")


# --- lab 03's views (no longer registered) --------------------------------------------------


@bp.get("/authors")
def list_authors():
    """List every author, sorted by name."""
    return [author.to_dict() for author in crud.list_authors()]


@bp.post("/authors")
def create_author():
    """Create an author from ``{"name", "bio"}``; 201 with a Location, 409 for a taken name."""
    values = validate(json_body(), AUTHOR_FIELDS, required=("name",))
    refuse_taken_name(values["name"])
    author = crud.create_author(values["name"], values.get("bio"))
    location = url_for("authors.get_author", author_id=author.id)
    return author.to_dict(), 201, {"Location": location}


@bp.get("/authors/<int:author_id>")
def get_author(author_id):
    """Return one author with the list of their books, or 404."""
    author = author_or_404(author_id)
    return {**author.to_dict(), "books": [book.to_dict() for book in author.books]}


@bp.patch("/authors/<int:author_id>")
def update_author(author_id):
    """Change only the fields present in the body; 409 when renaming to a taken name."""
    author = author_or_404(author_id)
    values = validate(json_body(), AUTHOR_FIELDS, partial=True)
    if "name" in values:
        refuse_taken_name(values["name"], author)
    crud.update_author(author, **values)
    return author.to_dict()


@bp.delete("/authors/<int:author_id>")
def delete_author(author_id):
    """Delete an author who has no books (204); one who still has books is a 409."""
    author = author_or_404(author_id)
    # The model would cascade to the books; the API refuses, so no catalogue vanishes by accident.
    if author.books:
        abort(409, f"The author still has {len(author.books)} book(s); delete those first.")
    crud.delete_author(author)  # nothing cascades: the author has no books
    return "", 204


# --- lab 04's resources: one class per URL, one method per HTTP method -----------------------


class AuthorList(Resource):
    """The collection ``/authors``: GET lists, POST creates."""

    def get(self):
        """List every author, sorted by name."""
        # TODO(04-restful): answer the list of the authors' to_dict(), as list_authors() did.
        ### BEGIN SOLUTION
        return [author.to_dict() for author in crud.list_authors()]
        ### END SOLUTION

    def post(self):
        """Create an author from ``{"name", "bio"}``; 201 with a Location, 409 for a taken name."""
        # TODO(04-restful): validate, refuse a taken name, create; 201 + Location ("author").
        ### BEGIN SOLUTION
        values = validate(json_body(), AUTHOR_FIELDS, required=("name",))
        refuse_taken_name(values["name"])
        author = crud.create_author(values["name"], values.get("bio"))
        return author.to_dict(), 201, {"Location": url_for("author", author_id=author.id)}
        ### END SOLUTION


class AuthorItem(Resource):
    """One author, ``/authors/<id>``: GET, PATCH and DELETE."""

    def get(self, author_id):
        """Return one author with the list of their books, or 404."""
        # TODO(04-restful): answer the author's to_dict() plus "books", or 404.
        ### BEGIN SOLUTION
        author = author_or_404(author_id)
        return {**author.to_dict(), "books": [book.to_dict() for book in author.books]}
        ### END SOLUTION

    def patch(self, author_id):
        """Change only the fields present in the body; 409 when renaming to a taken name."""
        # TODO(04-restful): find (404), validate a partial body, refuse a taken name (409), update.
        ### BEGIN SOLUTION
        author = author_or_404(author_id)
        values = validate(json_body(), AUTHOR_FIELDS, partial=True)
        if "name" in values:
            refuse_taken_name(values["name"], author)
        crud.update_author(author, **values)
        return author.to_dict()
        ### END SOLUTION

    def delete(self, author_id):
        """Delete an author who has no books (204); one who still has books is a 409."""
        # TODO(04-restful): find (404), refuse while the author has books (409), delete; 204.
        ### BEGIN SOLUTION
        author = author_or_404(author_id)
        if author.books:
            abort(409, f"The author still has {len(author.books)} book(s); delete those first.")
        crud.delete_author(author)  # nothing cascades: the author has no books
        # A Response goes out as it is: no body, and no JSON Content-Type on nothing.
        return Response(status=204)
        ### END SOLUTION
