"""Hidden graders of lab 02: the `flask seed` command."""

import pytest


def counts(app):
    """How many authors, books, users and reviews the database holds."""
    from bookshelf.db import db
    from bookshelf.models import Author, Book, Review, User

    with app.app_context():
        return {
            model.__name__: db.session.scalar(db.select(db.func.count()).select_from(model))
            for model in (Author, Book, User, Review)
        }


@pytest.mark.grade(points=2, hint="`flask seed` adds sample authors, books, users and reviews.")
def test_seed_fills_every_table(app, runner):
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, (result.output, result.exception)
    found = counts(app)
    assert found["Author"] >= 2 and found["Book"] >= 3, found
    assert found["User"] >= 1 and found["Review"] >= 1, found


@pytest.mark.grade(
    points=1, hint="Running `flask seed` twice must not duplicate the sample data or fail."
)
def test_seed_twice_does_not_duplicate(app, runner):
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, (first.output, first.exception)
    before = counts(app)
    second = runner.invoke(args=["seed"])
    assert second.exit_code == 0, (second.output, second.exception)
    assert counts(app) == before


@pytest.mark.grade(
    points=1, hint="Seeded books belong to seeded authors, and seeded reviews to books and users."
)
def test_seeded_rows_are_linked(app, runner):
    from bookshelf import crud

    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, (result.output, result.exception)
    with app.app_context():
        books = crud.list_books()
        assert books and all(book.author is not None for book in books)
        assert all(author.books for author in crud.list_authors())
        reviews = crud.list_reviews()
        assert reviews and all(r.book is not None and r.user is not None for r in reviews)
        assert all(1 <= r.rating <= 5 for r in reviews)
