"""The authors: /authors and /authors/<id>, as the resources AuthorList and AuthorItem."""

from flask import Response, abort, url_for
from flask_restful import Resource

from . import crud
from .auth import role_required
from .db import db
from .hypermedia import author_links, paginated, resources, with_links
from .models import Author
from .schemas import AuthorSchema
from .validation import FieldConflict, json_body

author_schema = AuthorSchema()
# An author in a list, without their books.
listed_author_schema = AuthorSchema(exclude=("books",))


def author_resource(author, schema=author_schema):
    """An author as the API sends it: the schema's dump and the author's links."""
    return with_links(schema.dump(author), author_links(author))


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
        authors, headers = paginated(crud.authors_query())
        return resources(listed_author_schema, authors, author_links), 200, headers

    @role_required("librarian")
    def post(self):
        """Create an author from ``{"name", "bio"}``; 201 with a Location, 409 for a taken name."""
        values = author_schema.load(json_body())
        # A friendly check first; the unique constraint still decides if two requests race.
        refuse_taken_name(values["name"])
        author = crud.create_author(**values)
        answer = author_resource(author)
        return answer, 201, {"Location": url_for("author", author_id=author.id)}


class AuthorItem(Resource):
    """One author, ``/authors/<id>``: GET, PATCH and DELETE."""

    def get(self, author_id):
        """Return one author with the list of their books, or 404."""
        author = author_or_404(author_id)
        return author_resource(author)

    @role_required("librarian")
    def patch(self, author_id):
        """Change only the fields present in the body; 409 when renaming to a taken name."""
        author = author_or_404(author_id)
        changes = author_schema.load(json_body(), partial=True)
        if "name" in changes:
            refuse_taken_name(changes["name"], author)
        crud.update_author(author, **changes)
        return author_resource(author)

    @role_required("librarian")
    def delete(self, author_id):
        """Delete an author who has no books (204); one who still has books is a 409."""
        author = author_or_404(author_id)
        if author.books:
            abort(409, f"The author still has {len(author.books)} book(s); delete those first.")
        crud.delete_author(author)
        # A Response is sent as it is; "" would be turned into the JSON string "".
        return Response(status=204)
