"""The database: one SQLAlchemy object for the package, bound to each app in the factory."""

from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event, func, select
from sqlalchemy.orm import DeclarativeBase

# Named constraints can be altered and dropped later by migrations, on SQLite and PostgreSQL,
# and an error that names one can be traced to its field (errors.CONSTRAINT_FIELDS). A unique
# constraint is named after all its columns: uq_reviews_user_id_book_id.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The base of every model; its metadata names constraints by the convention above."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Created unbound: the same object serves every app that init_app() is called with.
db = SQLAlchemy(model_class=Base)
# render_as_batch: SQLite cannot ALTER most things in place, so Alembic writes a column change
# as "copy the table, change it, rename it back". PostgreSQL runs the same script as plain ALTERs.
migrate = Migrate(render_as_batch=True)

SAMPLE_LIBRARY = {
    "authors": [
        {"name": "Ursula K. Le Guin", "bio": "Wrote Earthsea and the Hainish cycle."},
        {"name": "Octavia E. Butler", "bio": "Wrote Kindred and the Parable novels."},
        {"name": "Susanna Clarke", "bio": "Wrote Jonathan Strange & Mr Norrell."},
    ],
    "books": [
        {"title": "A Wizard of Earthsea", "author": "Ursula K. Le Guin", "year": 1968},
        {"title": "The Left Hand of Darkness", "author": "Ursula K. Le Guin", "year": 1969},
        {"title": "Kindred", "author": "Octavia E. Butler", "year": 1979},
        {"title": "Piranesi", "author": "Susanna Clarke", "year": 2020},
    ],
    "users": ["ada", "grace"],
    "reviews": [
        {"user": "ada", "book": "Kindred", "rating": 5, "body": "Unforgettable."},
        {"user": "grace", "book": "Kindred", "rating": 4, "body": "Hard to put down."},
        {"user": "ada", "book": "Piranesi", "rating": 4, "body": "A strange, kind house."},
    ],
}


def _enable_sqlite_foreign_keys(dbapi_connection, connection_record):
    """Turn on foreign keys: SQLite ignores them unless each new connection asks."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def seed_sample_data():
    """Add SAMPLE_LIBRARY to the database through the helpers in crud.py."""
    # Imported here because crud imports the models, and the models import this module.
    from . import crud

    authors = {}
    for author in SAMPLE_LIBRARY["authors"]:
        authors[author["name"]] = crud.create_author(author["name"], author["bio"])
    books = {}
    for book in SAMPLE_LIBRARY["books"]:
        author = authors[book["author"]]
        books[book["title"]] = crud.create_book(book["title"], author, book["year"])
    users = {name: crud.create_user(name) for name in SAMPLE_LIBRARY["users"]}
    for review in SAMPLE_LIBRARY["reviews"]:
        user, book = users[review["user"]], books[review["book"]]
        crud.add_review(user, book, review["rating"], review["body"])


@click.command("init-db")
@with_appcontext
def init_db_command():
    """Create the tables that do not exist yet (existing data is kept)."""
    db.create_all()
    click.echo("Initialized the database.")


@click.command("seed")
@with_appcontext
def seed_command():
    """Create the tables if needed and add the sample library to an empty database."""
    db.create_all()
    from .models import Author

    # Seeding twice would duplicate unique names, so an existing library is left alone.
    if db.session.scalar(select(func.count()).select_from(Author)):
        click.echo("The database already has data; nothing to seed.")
        return
    seed_sample_data()
    click.echo("Seeded the sample library.")


def init_app(app):
    """Bind the database to ``app``, enforce SQLite foreign keys and add the CLI commands."""
    # The models must be imported before create_all() so their tables are known.
    from . import models  # noqa: F401

    db.init_app(app)
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _enable_sqlite_foreign_keys)
    migrate.init_app(app, db, directory=migrations_folder(app))
    app.cli.add_command(init_db_command)
    app.cli.add_command(seed_command)


def migrations_folder(app):
    """The lab's ``migrations/`` folder, found from the package, whatever the working directory."""
    return str(Path(app.root_path).parent / "migrations")
