"""The authors: /authors and /authors/<id>, as the resources AuthorList and AuthorItem."""

from flask import Response, abort, url_for
from flask_restful import Resource

from . import crud
from .auth import role_required
from .db import db
from .models import Author

# TODO(08-marshmallow): import the schemas; lab 07's hand-written checks are then unused.
### BEGIN SOLUTION stub: from . import handwritten
from .schemas import AuthorSchema

### END SOLUTION
from .validation import FieldConflict, json_body

# TODO(08-marshmallow): the schema instances: one for an author (with their books) and one
# for lists (many=True, without books).
### BEGIN SOLUTION remove
author_schema = AuthorSchema()
authors_schema = AuthorSchema(many=True, exclude=("books",))
### END SOLUTION


def author_or_404(author_id):
    """Return the author with this id, or stop with a 404."""
    return db.get_or_404(Author, author_id, description=f"There is no author with id {author_id}.")


def refuse_taken_name(name, author=None):
    """Stop with a 409 naming the field when another author than ``author`` has this name."""
    other = crud.find_author(name)
    if other is not None and other is not author:
        raise FieldConflict({"name": f"is already taken by the author with id {other.id}"})


class AuthorList(Resource):
    """The collection ``/authors``: GET lists, POST creates."""

    def get(self):
        """List every author, sorted by name, with the number of books of each."""
        # TODO(08-marshmallow): dump the list with authors_schema.
        ### BEGIN SOLUTION stub: return [author.to_dict() for author in crud.list_authors()]
        return authors_schema.dump(crud.list_authors())
        ### END SOLUTION

    @role_required("librarian")
    def post(self):
        """Create an author from ``{"name", "bio"}``; 201 with a Location, 409 for a taken name."""
        # TODO(08-marshmallow): load the body with author_schema.
        ### BEGIN SOLUTION stub: values = handwritten.author_fields(json_body())
        values = author_schema.load(json_body())
        ### END SOLUTION
        # A friendly check first; the unique constraint still decides if two requests race.
        refuse_taken_name(values["name"])
        author = crud.create_author(**values)
        # TODO(08-marshmallow): answer with author_schema's dump.
        ### BEGIN SOLUTION stub: answer = author.to_dict()
        answer = author_schema.dump(author)
        ### END SOLUTION
        return answer, 201, {"Location": url_for("author", author_id=author.id)}


class AuthorItem(Resource):
    """One author, ``/authors/<id>``: GET, PATCH and DELETE."""

    def get(self, author_id):
        """Return one author with the list of their books, or 404."""
        author = author_or_404(author_id)
        # TODO(08-marshmallow): dump the author (books included) with author_schema.
        ### BEGIN SOLUTION stub: return handwritten.author_with_books(author)
        return author_schema.dump(author)
        ### END SOLUTION

    @role_required("librarian")
    def patch(self, author_id):
        """Change only the fields present in the body; 409 when renaming to a taken name."""
        author = author_or_404(author_id)
        # TODO(08-marshmallow): load the body with author_schema, partial=True.
        ### BEGIN SOLUTION stub: changes = handwritten.author_fields(json_body(), partial=True)
        changes = author_schema.load(json_body(), partial=True)
        ### END SOLUTION
        if "name" in changes:
            refuse_taken_name(changes["name"], author)
        crud.update_author(author, **changes)
        # TODO(08-marshmallow): answer with author_schema's dump.
        ### BEGIN SOLUTION stub: return author.to_dict()
        return author_schema.dump(author)
        ### END SOLUTION

    @role_required("librarian")
    def delete(self, author_id):
        """Delete an author who has no books (204); one who still has books is a 409."""
        author = author_or_404(author_id)
        if author.books:
            abort(409, f"The author still has {len(author.books)} book(s); delete those first.")
        crud.delete_author(author)
        # A Response is sent as it is; "" would be turned into the JSON string "".
        return Response(status=204)
