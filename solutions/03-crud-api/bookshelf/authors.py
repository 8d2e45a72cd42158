"""The authors endpoints: /authors and /authors/<id>."""

from flask import Blueprint, abort, url_for

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
    # TODO(03-crud-api): part 2 (conflicts): abort with 409 when another author has this name.
    ### BEGIN SOLUTION stub: return
    other = crud.find_author(name)
    if other is not None and other is not author:
        abort(409, f"An author called {name!r} already exists (id {other.id}).")
    ### END SOLUTION


def refuse_author_with_books(author):
    """Stop with 409 while ``author`` still has books."""
    # The model would cascade to the books; the API refuses, so no catalogue vanishes by accident.
    # TODO(03-crud-api): part 2 (conflicts): abort with 409 while the author still has books.
    ### BEGIN SOLUTION stub: return
    if author.books:
        abort(409, f"The author still has {len(author.books)} book(s); delete those first.")
    ### END SOLUTION


@bp.get("/authors")
def list_authors():
    """List every author, sorted by name."""
    # TODO(03-crud-api): answer a JSON list of the authors' to_dict().
    ### BEGIN SOLUTION
    return [author.to_dict() for author in crud.list_authors()]
    ### END SOLUTION


@bp.post("/authors")
def create_author():
    """Create an author from ``{"name", "bio"}``; 201 with a Location, 409 for a taken name."""
    # TODO(03-crud-api): validate (name required), refuse_taken_name(), create; 201 + Location.
    ### BEGIN SOLUTION
    values = validate(json_body(), AUTHOR_FIELDS, required=("name",))
    refuse_taken_name(values["name"])
    author = crud.create_author(values["name"], values.get("bio"))
    location = url_for("authors.get_author", author_id=author.id)
    return author.to_dict(), 201, {"Location": location}
    ### END SOLUTION


@bp.get("/authors/<int:author_id>")
def get_author(author_id):
    """Return one author with the list of their books, or 404."""
    # TODO(03-crud-api): answer the author's to_dict() plus "books": their books' to_dict().
    ### BEGIN SOLUTION
    author = author_or_404(author_id)
    return {**author.to_dict(), "books": [book.to_dict() for book in author.books]}
    ### END SOLUTION


@bp.patch("/authors/<int:author_id>")
def update_author(author_id):
    """Change only the fields present in the body; 409 when renaming to a taken name."""
    # TODO(03-crud-api): find (404), validate a partial body, refuse_taken_name(), update.
    ### BEGIN SOLUTION
    author = author_or_404(author_id)
    values = validate(json_body(), AUTHOR_FIELDS, partial=True)
    if "name" in values:
        refuse_taken_name(values["name"], author)
    crud.update_author(author, **values)
    return author.to_dict()
    ### END SOLUTION


@bp.delete("/authors/<int:author_id>")
def delete_author(author_id):
    """Delete an author who has no books (204); one who still has books is a 409."""
    # TODO(03-crud-api): find (404), call refuse_author_with_books(author), delete, answer 204.
    ### BEGIN SOLUTION
    author = author_or_404(author_id)
    refuse_author_with_books(author)
    crud.delete_author(author)  # nothing cascades: the author has no books
    return "", 204
    ### END SOLUTION
