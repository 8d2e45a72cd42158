"""Visible tests of lab 02: the models, the CRUD helpers and the seed command."""

import pytest
from bookshelf import crud

# Written before accounts existed: run with LOGIN_DISABLED (see conftest.py).
pytestmark = pytest.mark.login_disabled


@pytest.mark.grade(points=2, hint="create_book links a book to its Author; author.books lists it.")
def test_create_book_links_it_to_its_author(app):
    with app.app_context():
        author = crud.create_author("Ursula K. Le Guin")
        book = crud.create_book("The Lathe of Heaven", author, 1971)
        assert book.author is author
        assert [b.title for b in author.books] == ["The Lathe of Heaven"]


@pytest.mark.grade(
    points=1, hint="Book.to_dict() returns id, title, author (the name), author_id, year."
)
def test_book_to_dict_names_the_author(app):
    with app.app_context():
        book = crud.create_book("Kindred", crud.create_author("Octavia E. Butler"), 1979)
        data = book.to_dict()
        assert data["author"] == "Octavia E. Butler", data
        assert data["title"] == "Kindred" and data["year"] == 1979, data


@pytest.mark.grade(
    points=2, hint="Deleting an author deletes their books: cascade on Author.books."
)
def test_deleting_an_author_deletes_their_books(app):
    with app.app_context():
        author = crud.create_author("Short-lived")
        crud.create_book("Gone", author)
        crud.delete_author(author)
        assert crud.list_books() == []


@pytest.mark.grade(
    points=2, hint="add_review links a user and a book; the book lists its reviewers."
)
def test_review_links_a_user_and_a_book(app):
    with app.app_context():
        book = crud.create_book("Piranesi", crud.create_author("Susanna Clarke"), 2020)
        user = crud.create_user("ada")
        review = crud.add_review(user, book, 5, "Wonderful.")
        assert review.book is book and review.user is user
        assert [u.username for u in book.reviewers] == ["ada"]


@pytest.mark.grade(points=1, hint="`flask seed` fills the database with sample authors and books.")
def test_seed_command_adds_sample_data(app, runner):
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert crud.list_authors(), "no authors after seeding"
        assert crud.list_books(), "no books after seeding"
