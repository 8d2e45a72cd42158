"""Fixture views of 02-tally."""

from flask import Blueprint, current_app

bp = Blueprint("views", __name__)


@bp.route("/hello/<name>", methods=["GET", "POST"])
def hello(name):
    """Greet a visitor."""
    return {"greeting": f"Hello, {name}!"}


@bp.post("/tally")
def add():
    """Add one."""
    current_app.config["TALLY"] = current_app.config.get("TALLY", 0) + 1
    return {"count": current_app.config["TALLY"]}


@bp.get("/tally")
def count():
    """Say the count."""
    return {"count": current_app.config.get("TALLY", 0)}


@bp.get("/ping")
def ping():
    """Answer pong."""
    return {"pong": True}


@bp.get("/lookup")
def lookup():
    """Answer ok."""
    return {"ok": True}
