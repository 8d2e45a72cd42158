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
from .hypermedia import paginated, user_resource
from .models import User
from .validation import json_body, role, validate


def user_or_404(user_id):
    """Return the user with this id, or stop with a 404."""
    return db.get_or_404(User, user_id, description=f"There is no user with id {user_id}.")


class UserList(Resource):
    """The collection ``/users``: GET lists them, for admins."""

    @role_required("admin")
    def get(self):
        """List every user (admins only)."""
        users, headers = paginated(crud.users_query())
        return [user_resource(user) for user in users], 200, headers


class UserItem(Resource):
    """One user, ``/users/<id>``: GET (the user or an admin), PATCH and DELETE (admins)."""

    @login_required
    def get(self, user_id):
        """Return one user: admins see anyone, everybody else only themselves."""
        # 403 before 404, so a reader cannot find out which ids exist.
        require_owner(user_id, or_role="admin")
        return user_resource(user_or_404(user_id))

    @role_required("admin")
    def patch(self, user_id):
        """Change a user's role with ``{"role"}``; 409 for the admin's own role."""
        user = user_or_404(user_id)
        values = validate(json_body(), {"role": role}, partial=True)
        if is_current_user(user) and values.get("role", user.role) != user.role:
            abort(409, "You cannot change your own role; ask another admin.")
        crud.update_user(user, **values)
        return user_resource(user)

    @role_required("admin")
    def delete(self, user_id):
        """Delete a user and their reviews; 409 for the admin's own account."""
        user = user_or_404(user_id)
        if is_current_user(user):
            abort(409, "You cannot delete your own account; ask another admin.")
        crud.delete_user(user)
        return Response(status=204)
