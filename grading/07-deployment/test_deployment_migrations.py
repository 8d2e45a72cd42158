"""One migration history builds the whole schema from empty, on PostgreSQL and on SQLite.

Every command runs as a Render build would run it: ``flask --app bookshelf db upgrade`` in the
lab folder, in a new process, with ``DATABASE_URL`` and ``SECRET_KEY`` and nothing else.
"""

import sqlite3

import pytest

SECRET = "a-long-random-value-for-the-deployment-graders"
TABLES = {"authors", "books", "users", "reviews", "alembic_version"}
# Constraints the models of labs 02-06 declare, named by the naming convention in db.py.
CONSTRAINTS = {
    "fk_books_author_id_authors",
    "uq_books_isbn",
    "uq_reviews_user_id_book_id",
    "ck_reviews_rating_range",
    "ck_books_title_not_blank",
    "ck_users_role_known",
}


@pytest.mark.grade(
    points=3,
    hint="Bind Flask-Migrate in db.init_app (migrate.init_app(app, db, directory=...)) and fill "
    "in upgrade() of the migration in migrations/versions/: on an empty PostgreSQL database "
    "`flask --app bookshelf db upgrade` must create authors, books, users and reviews.",
)
def test_upgrade_builds_every_table_on_an_empty_postgres_database(migrated_database, postgres):
    migrated_database.require_upgrade()
    url = migrated_database.url
    tables = postgres.tables(url)
    assert TABLES <= tables, f"missing tables {sorted(TABLES - tables)}; found {sorted(tables)}"
    names = {
        name
        for (name,) in postgres.rows(
            url,
            "SELECT constraint_name FROM information_schema.table_constraints "
            "WHERE table_schema = 'public'",
        )
    }
    assert CONSTRAINTS <= names, (
        f"the migration lacks the constraints {sorted(CONSTRAINTS - names)} "
        "(a migration must create every constraint of the models, with its name)"
    )


@pytest.mark.grade(
    points=2,
    hint="`flask db upgrade` must be safe to run at every deploy: a second run on an "
    "up-to-date database changes nothing and exits 0.",
)
def test_upgrade_twice_is_harmless(migrated_database, postgres, flask_command):
    migrated_database.require_upgrade()
    url = migrated_database.url
    tables = postgres.tables(url)
    assert TABLES <= tables, f"upgrade created only {sorted(tables)}"
    again = flask_command(["db", "upgrade"], DATABASE_URL=url, SECRET_KEY=SECRET)
    assert again.returncode == 0, f"the second upgrade failed:\n{again!r}"
    assert postgres.tables(url) == tables
    versions = postgres.rows(url, "SELECT version_num FROM alembic_version")
    assert len(versions) == 1, f"alembic_version should hold one head, holds {versions}"


@pytest.mark.grade(
    points=3,
    hint="The migrations must build exactly what models.py describes: after `flask db upgrade`, "
    "`flask db check` must find nothing to add. Regenerate with `flask db migrate` after "
    "changing a model.",
)
def test_migrated_postgres_schema_matches_the_models(migrated_database, flask_command):
    migrated_database.require_upgrade()
    check = flask_command(["db", "check"], DATABASE_URL=migrated_database.url, SECRET_KEY=SECRET)
    assert check.returncode == 0, f"the models and the migrated database differ:\n{check!r}"


@pytest.mark.grade(
    points=2,
    hint="The same history must run on SQLite, the development database: keep "
    "render_as_batch=True and let DATABASE_URL=sqlite:///... choose the database.",
)
def test_upgrade_builds_the_same_schema_on_sqlite(flask_command, tmp_path):
    path = tmp_path / "fresh.sqlite"
    url = f"sqlite:///{path}"
    upgrade = flask_command(["db", "upgrade"], DATABASE_URL=url, SECRET_KEY=SECRET)
    assert upgrade.returncode == 0, f"`flask db upgrade` failed on SQLite:\n{upgrade!r}"
    with sqlite3.connect(path) as connection:
        found = {
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
    assert TABLES <= found, f"missing tables {sorted(TABLES - found)}; found {sorted(found)}"
    check = flask_command(["db", "check"], DATABASE_URL=url, SECRET_KEY=SECRET)
    assert check.returncode == 0, f"the models and the migrated SQLite database differ:\n{check!r}"
