"""Hidden graders of lab 02: the `flask seed` command, checked in the database it filled."""

import pytest


def counts(database):
    """How many authors, books, users and reviews the database holds."""
    return {
        table: database.scalar(f"SELECT count(*) FROM {table}")
        for table in ("authors", "books", "users", "reviews")
    }


@pytest.mark.grade(points=2, hint="`flask seed` adds sample authors, books, users and reviews.")
def test_seed_fills_every_table(runner, database):
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    found = counts(database)
    assert found["authors"] >= 2 and found["books"] >= 3, found
    assert found["users"] >= 1 and found["reviews"] >= 1, found


@pytest.mark.grade(
    points=1, hint="Running `flask seed` twice must not duplicate the sample data or fail."
)
def test_seed_twice_does_not_duplicate(runner, database):
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    before = counts(database)
    second = runner.invoke(args=["seed"])
    assert second.exit_code == 0, second.output
    assert counts(database) == before


@pytest.mark.grade(
    points=1, hint="Seeded books belong to seeded authors, and seeded reviews to books and users."
)
def test_seeded_rows_are_linked(runner, database):
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    assert database.scalar("SELECT count(*) FROM books") >= 1
    orphans = database.rows(
        "SELECT title FROM books WHERE author_id NOT IN (SELECT id FROM authors)"
    )
    assert orphans == [], orphans
    bookless = database.rows(
        "SELECT name FROM authors WHERE id NOT IN (SELECT author_id FROM books)"
    )
    assert bookless == [], bookless
    reviews = database.rows("SELECT user_id, book_id, rating FROM reviews")
    assert reviews, "the seed adds reviews"
    book_ids = {r["id"] for r in database.rows("SELECT id FROM books")}
    user_ids = {r["id"] for r in database.rows("SELECT id FROM users")}
    for review in reviews:
        assert review["book_id"] in book_ids and review["user_id"] in user_ids, review
        assert 1 <= review["rating"] <= 5, review
