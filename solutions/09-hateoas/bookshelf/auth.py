"""Who is asking, and may they? Accounts, sessions and roles with Flask-Login.

``POST /auth/signup``, ``POST /auth/login``, ``POST /auth/logout`` and ``GET /auth/me``; the
login manager that finds the user of a session cookie; the checks that answer 401 (not logged
in) and 403 (logged in, not allowed) as problem details; and ``flask create-user``, the way to
make librarians and the first admin.

With ``LOGIN_DISABLED = True`` every check lets the request through, as Flask-Login's own
``login_required`` does: clients written before accounts existed keep working.
"""

import functools

import click
from flask import Blueprint, abort, current_app, url_for
from flask.cli import with_appcontext
from flask_login import LoginManager, current_user, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash

from . import crud
from .db import db
from .errors import problem
from .hypermedia import user_resource
from .models import User
from .validation import (
    ROLES,
    boolean,
    given_password,
    json_body,
    new_password,
    text,
    username,
    validate,
)

# Log-in and log-out are actions, not resources: plain views on a blueprint suit them.
bp = Blueprint("auth", __name__, url_prefix="/auth")

# Created unbound, like db: init_app() attaches it to each app.
login_manager = LoginManager()

# The cookie settings of a deployed app, which is reached over HTTPS only.
PRODUCTION_COOKIES = {
    "SESSION_COOKIE_SECURE": True,  # sent over HTTPS only, never in clear text
    "SESSION_COOKIE_HTTPONLY": True,  # invisible to JavaScript, so injected scripts cannot steal it
    "SESSION_COOKIE_SAMESITE": "Lax",  # left off cross-site POSTs, which blunts CSRF
    "REMEMBER_COOKIE_SECURE": True,
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
}


SIGNUP_FIELDS = {"username": username, "password": new_password}
LOGIN_FIELDS = {"username": text, "password": given_password, "remember": boolean}


# --- the login manager and the permission checks ---------------------------------------------


@login_manager.user_loader
def load_user(user_id):
    """Return the user whose id the session cookie holds, or None when that user is gone."""
    return db.session.get(User, int(user_id))


@login_manager.unauthorized_handler
def unauthorized():
    """Answer a request that needs a logged-in user with a 401 problem, not a redirect."""
    return problem(401, "Log in first: POST /auth/login with your username and password.")


def login_disabled():
    """Whether the app runs with LOGIN_DISABLED, where every request is let through."""
    return current_app.config.get("LOGIN_DISABLED", False)


def role_required(role):
    """Let the view run only for a logged-in user with ``role`` or more: otherwise 401 or 403."""

    def decorator(view):
        @functools.wraps(view)
        def checked_view(*args, **kwargs):
            if not login_disabled():
                if not current_user.is_authenticated:
                    return login_manager.unauthorized()
                if not current_user.has_role(role):
                    abort(403, f"Only a {role} or a user with more rights may do this.")
            return view(*args, **kwargs)

        return checked_view

    return decorator


def require_owner(owner_id, or_role=None):
    """Stop with 403 unless the logged-in user has id ``owner_id`` (or at least ``or_role``)."""
    if login_disabled() or current_user.id == owner_id:
        return
    if or_role is None or not current_user.has_role(or_role):
        abort(403, "This belongs to another user.")


def is_current_user(user):
    """Whether ``user`` is the one who is logged in."""
    return current_user.is_authenticated and current_user.id == user.id


# --- accounts and sessions --------------------------------------------------------------------


@functools.cache
def decoy_hash(method):
    """A hash of no one's password, checked when the username is unknown."""
    return generate_password_hash("no one's password", method=method)


def authenticate(name, password):
    """Return the user with this name and password, or None for any mismatch."""
    user = crud.find_user(name)
    if user is None:
        # Hash anyway: answering faster for unknown names would tell which names exist.
        check_password_hash(decoy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
        return None
    return user if user.check_password(password) else None


@bp.post("/signup")
def signup():
    """Create a reader from ``{"username", "password"}`` and log them in; 201, 409 if taken."""
    values = validate(json_body(), SIGNUP_FIELDS, required=("username", "password"))
    # A "role" in the body is an unknown field (422): signing up never makes a librarian.
    user = crud.create_user(values["username"], values["password"])
    login_user(user)
    location = url_for("user", user_id=user.id)
    return user_resource(user), 201, {"Location": location}


@bp.post("/login")
def login():
    """Log in with ``{"username", "password", "remember"?}``; 200 with the user, or 401."""
    values = validate(json_body(), LOGIN_FIELDS, required=("username", "password"))
    user = authenticate(values["username"], values["password"])
    if user is None:
        # One answer for both mistakes, so nobody can probe which usernames exist.
        abort(401, "Wrong username or password.")
    login_user(user, remember=values.get("remember", False))
    return user_resource(user)


@bp.post("/logout")
def logout():
    """End the session (and forget the remember-me cookie); 204 even when nobody was in."""
    logout_user()
    return "", 204


@bp.get("/me")
def me():
    """Return the logged-in user, or 401 (a worked example of current_user)."""
    # Not @login_required: with LOGIN_DISABLED it would let an anonymous user through, and an
    # anonymous user has no to_dict().
    if not current_user.is_authenticated:
        return login_manager.unauthorized()  # whatever the unauthorized_handler answers
    return user_resource(current_user)


@click.command("create-user")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), default="reader", show_default=True)
@click.password_option(help="The password (asked twice, hidden, when not given).")
@with_appcontext
def create_user_command(name, role, password):
    """Create a user who can log in, with any role: the way to make the first admin."""
    try:
        name, password = username(name), new_password(password)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
    if crud.find_user(name) is not None:
        raise click.ClickException(f"The username {name!r} is taken.")
    user = crud.create_user(name, password, role)
    click.echo(f"Created the {role} {name!r} (id {user.id}).")


def init_app(app):
    """Attach the login manager, secure the cookies outside tests, add ``flask create-user``."""
    login_manager.init_app(app)
    if not app.testing:  # the test client speaks plain HTTP
        app.config.update(PRODUCTION_COOKIES)
    app.cli.add_command(create_user_command)
