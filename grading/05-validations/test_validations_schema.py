"""Hidden graders of lab 05: the constraints the database itself enforces.

The grader rebuilds the student's tables from their own CREATE statements in a private
in-memory SQLite database and writes rows there directly, as a bulk import or a second program
would: no Python validation runs, so only the database's constraints stand in the way.
"""

import re
import sqlite3

import pytest

TABLES = ("authors", "books", "users", "reviews")


def private_copy(database):
    """An empty in-memory database built from the lab's own CREATE TABLE/INDEX statements."""
    connection = sqlite3.connect(":memory:")
    connection.execute("PRAGMA foreign_keys=ON")
    statements = database.rows(
        "SELECT type, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type DESC"
    )
    for statement in statements:  # tables first ('table' > 'index'), then indexes
        connection.execute(statement["sql"])
    return connection


def insert(connection, table, **values):
    """INSERT one row and return its id; sqlite3.IntegrityError when a constraint refuses it."""
    names = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    cursor = connection.execute(
        f"INSERT INTO {table} ({names}) VALUES ({marks})", tuple(values.values())
    )
    return cursor.lastrowid


def refused(connection, table, **values):
    """True when the database refuses the row with an integrity error (nothing stored)."""
    try:
        insert(connection, table, **values)
    except sqlite3.IntegrityError:
        return True
    return False


def table_sql(database, table):
    """The CREATE TABLE statement of ``table`` as the lab's database stores it."""
    query = "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?"
    sql = database.scalar(query, (table,))
    assert sql, f"the database has no table {table!r}"
    return sql


def library(connection):
    """An author, a book and a user in the private copy; returns their ids."""
    author_id = insert(connection, "authors", name="Schema Author")
    book_id = insert(connection, "books", title="Schema Book", author_id=author_id)
    user_id = insert(connection, "users", username="schema-user")
    return author_id, book_id, user_id


@pytest.mark.grade(
    points=2,
    hint="Add CheckConstraint('rating BETWEEN 1 AND 5', name=...) to Review's __table_args__.",
)
def test_database_refuses_ratings_outside_1_to_5(database):
    connection = private_copy(database)
    _, book_id, user_id = library(connection)
    other_user = insert(connection, "users", username="schema-user-2")
    for rating in (0, 6, -1, 100):
        row = {"user_id": user_id, "book_id": book_id, "rating": rating, "body": ""}
        assert refused(connection, "reviews", **row), (
            f"a review with rating {rating} was stored: the reviews table needs a CHECK constraint"
        )
    insert(connection, "reviews", user_id=user_id, book_id=book_id, rating=1, body="")
    insert(connection, "reviews", user_id=other_user, book_id=book_id, rating=5, body="")
    assert connection.execute("SELECT count(*) FROM reviews").fetchone()[0] == 2


@pytest.mark.grade(
    points=2,
    hint="CHECK constraints: a title, an author's name and a username may not be empty or blank.",
)
def test_database_refuses_empty_titles_and_names(database):
    connection = private_copy(database)
    author_id, _, _ = library(connection)
    for blank in ("", "   "):
        assert refused(connection, "books", title=blank, author_id=author_id), (
            f"a book titled {blank!r} was stored: add a CHECK on books.title"
        )
        assert refused(connection, "authors", name=blank), (
            f"an author named {blank!r} was stored: add a CHECK on authors.name"
        )
        assert refused(connection, "users", username=blank), (
            f"a user named {blank!r} was stored: add a CHECK on users.username"
        )


@pytest.mark.grade(
    points=2,
    hint="A CHECK on books.year: NULL, or a year from 1450 to 2100 (the database's fence).",
)
def test_database_refuses_a_senseless_publication_year(database):
    connection = private_copy(database)
    author_id, _, _ = library(connection)
    for year in (1200, -5, 3000, 99999):
        assert refused(connection, "books", title=f"Year {year}", author_id=author_id, year=year), (
            f"a book from the year {year} was stored: add a CHECK on books.year"
        )
    for year in (None, 1450, 1968, 2030):
        insert(connection, "books", title=f"Year {year}", author_id=author_id, year=year)


@pytest.mark.grade(
    points=2, hint="Book.isbn: a column with unique=True (several books may have no ISBN)."
)
def test_database_keeps_isbns_unique(database):
    columns = {column["name"] for column in database.columns("books")}
    assert "isbn" in columns, f"the books table has no isbn column: {sorted(columns)}"
    assert frozenset({"isbn"}) in database.unique_column_sets("books"), database.unique_column_sets(
        "books"
    )
    connection = private_copy(database)
    author_id, _, _ = library(connection)
    insert(connection, "books", title="First", author_id=author_id, isbn="9780441172719")
    assert refused(connection, "books", title="Second", author_id=author_id, isbn="9780441172719")
    insert(connection, "books", title="No ISBN 1", author_id=author_id, isbn=None)
    insert(connection, "books", title="No ISBN 2", author_id=author_id, isbn=None)


CONSTRAINT = re.compile(r"CONSTRAINT\s+\"?(\w+)\"?\s+(CHECK|UNIQUE|FOREIGN KEY|PRIMARY KEY)", re.I)


@pytest.mark.grade(
    points=2,
    hint="Name every constraint through the MetaData naming convention (ck_<table>_<name>, ...).",
)
def test_constraints_are_named_by_the_naming_convention(database):
    prefixes = {"CHECK": "ck", "UNIQUE": "uq", "FOREIGN KEY": "fk", "PRIMARY KEY": "pk"}
    checks = {}
    for table in TABLES:
        sql = table_sql(database, table)
        named = CONSTRAINT.findall(sql)
        for name, kind in named:
            prefix = prefixes[kind.upper()]
            assert name.startswith(f"{prefix}_{table}_") or name == f"pk_{table}", (
                f"{table}: constraint {name!r} ({kind}) does not follow the naming convention",
                sql,
            )
        checks[table] = [name for name, kind in named if kind.upper() == "CHECK"]
        # A CHECK without a CONSTRAINT name in front of it has no name a migration can use.
        anonymous = len(re.findall(r"\bCHECK\s*\(", sql, re.I)) - len(checks[table])
        assert anonymous == 0, (f"{table} has {anonymous} CHECK constraint(s) without a name", sql)
    missing = [table for table in TABLES if not checks[table]]
    assert not missing, f"tables without a named CHECK constraint: {missing}; found {checks}"
    assert any("rating" in name for name in checks["reviews"]), checks["reviews"]
    assert any("year" in name for name in checks["books"]), checks["books"]


# The constraint names errors.py's CONSTRAINT_FIELDS looks up to tell a client which field
# clashed or was refused: the naming convention turns each short name into one of these.
CONSTRAINT_NAMES = {
    "authors": {"ck_authors_name_not_blank", "uq_authors_name"},
    "books": {"ck_books_title_not_blank", "ck_books_year_sensible", "uq_books_isbn"},
    "users": {"ck_users_username_not_blank", "uq_users_username"},
    "reviews": {"ck_reviews_rating_range", "uq_reviews_user_id_book_id"},
}


@pytest.mark.grade(
    points=1,
    hint="Give each constraint the short name CONSTRAINT_FIELDS in errors.py expects: "
    'CheckConstraint(..., name="name_not_blank") becomes ck_authors_name_not_blank, and so on.',
)
def test_constraints_have_the_names_the_error_handler_looks_up(database):
    missing = {}
    for table, expected in CONSTRAINT_NAMES.items():
        found = {name for name, _ in CONSTRAINT.findall(table_sql(database, table))}
        if expected - found:
            missing[table] = (sorted(expected - found), sorted(found))
    assert not missing, f"constraints missing or named otherwise (missing, found): {missing}"
