"""The users: /users and /users/<id>, as the resources UserList and UserItem.

Admins manage accounts and roles; everybody else may read their own account only. Accounts are
created by ``POST /auth/signup`` (readers) and ``flask create-user`` (any role).
"""

from flask import Response, abort
from flask_login import login_required
from flask_restful import Resource

from . import crud
from .auth import is_current_user, require_owner, role_required
from .db import db
from .models import User
from .schemas import UserSchema
from .validation import json_body, role, validate

# A worked example of dumping with a schema: what a client sees of a user, never the hash.
user_schema = UserSchema()
users_schema = UserSchema(many=True)


def user_or_404(user_id):
    """Return the user with this id, or stop with a 404."""
    return db.get_or_404(User, user_id, description=f"There is no user with id {user_id}.")


class UserList(Resource):
    """The collection ``/users``: GET lists them, for admins."""

    @role_required("admin")
    def get(self):
        """List every user (admins only)."""
        return users_schema.dump(crud.list_users())


class UserItem(Resource):
    """One user, ``/users/<id>``: GET (the user or an admin), PATCH and DELETE (admins)."""

    @login_required
    def get(self, user_id):
        """Return one user: admins see anyone, everybody else only themselves."""
        # 403 before 404, so a reader cannot find out which ids exist.
        require_owner(user_id, or_role="admin")
        return user_schema.dump(user_or_404(user_id))

    @role_required("admin")
    def patch(self, user_id):
        """Change a user's role with ``{"role"}``; 409 for the admin's own role."""
        user = user_or_404(user_id)
        values = validate(json_body(), {"role": role}, partial=True)
        if is_current_user(user) and values.get("role", user.role) != user.role:
            abort(409, "You cannot change your own role; ask another admin.")
        crud.update_user(user, **values)
        return user_schema.dump(user)

    @role_required("admin")
    def delete(self, user_id):
        """Delete a user and their reviews; 409 for the admin's own account."""
        user = user_or_404(user_id)
        if is_current_user(user):
            abort(409, "You cannot delete your own account; ask another admin.")
        crud.delete_user(user)
        return Response(status=204)
