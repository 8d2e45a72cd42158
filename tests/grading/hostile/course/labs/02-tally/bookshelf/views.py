"""Fixture skeleton of 02-tally: the 01 work is done, the 02 work is not."""

from flask import Blueprint

bp = Blueprint("views", __name__)


@bp.route("/hello/<name>", methods=["GET", "POST"])
def hello(name):
    """Greet a visitor."""
    return {"greeting": f"Hello, {name}!"}


@bp.post("/tally")
def add():
    """Add one."""
    raise NotImplementedError("TODO(02-tally): add one to the tally.")


@bp.get("/tally")
def count():
    """Say the count."""
    raise NotImplementedError("TODO(02-tally): answer the count.")
