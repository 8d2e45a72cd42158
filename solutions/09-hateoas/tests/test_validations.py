"""Visible tests of lab 05: constraints in the database, @validates in the models, 422 and 409."""

import pytest
from bookshelf import crud
from bookshelf.db import db
from bookshelf.models import Review
from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError

# Written before accounts existed: run with LOGIN_DISABLED (see conftest.py).
pytestmark = pytest.mark.login_disabled

PROBLEM = "application/problem+json"


def body(response):
    """The response body as text, for assertion messages."""
    return response.get_data(as_text=True)


def create_book(client, **fields):
    """POST a book and return its JSON; the POST must succeed."""
    data = {"title": "Dune", "author": "Frank Herbert", "year": 1965, **fields}
    response = client.post("/books", json=data)
    assert response.status_code == 201, body(response)
    return response.get_json()


@pytest.mark.grade(
    points=2, hint="A CHECK named rating_range makes the database refuse a rating of 9."
)
def test_database_refuses_a_rating_outside_1_to_5(app):
    with app.app_context():
        book = crud.create_book("Checked", crud.create_author("Checker"))
        user = crud.create_user("bulk")
        # A bulk insert builds no Review object, so @validates never runs: only the CHECK is left.
        row = {"user_id": user.id, "book_id": book.id, "rating": 9, "body": ""}
        with pytest.raises(IntegrityError, match="ck_reviews_rating_range"):
            db.session.execute(insert(Review), [row])
        db.session.rollback()


@pytest.mark.grade(points=2, hint="The naming convention names the CHECKs: ck_<table>_<name>.")
def test_constraints_are_named(app):
    with app.app_context():
        sql = db.session.scalar(text("SELECT sql FROM sqlite_master WHERE name = 'books'"))
    for name in ("ck_books_title_not_blank", "ck_books_year_sensible", "uq_books_isbn"):
        assert f"CONSTRAINT {name}" in sql, sql


@pytest.mark.grade(
    points=2, hint="@validates('rating') raises ValueError before anything reaches the database."
)
def test_model_refuses_a_bad_rating(app):
    with app.app_context():
        book = crud.create_book("Rated", crud.create_author("Rater"))
        user = crud.create_user("reader")
        for value in (0, 6, True, 4.5):
            with pytest.raises(ValueError, match="rating"):
                Review(user=user, book=book, rating=value)


@pytest.mark.grade(points=2, hint="Book titles are stripped by @validates and may not be blank.")
def test_model_strips_and_refuses_titles(app):
    with app.app_context():
        author = crud.create_author("Titled")
        assert crud.create_book("  Spaced  ", author).title == "Spaced"
        with pytest.raises(ValueError):
            crud.create_book("   ", author)


@pytest.mark.grade(points=2, hint="A taken ISBN is a 409 problem whose errors name 'isbn'.")
def test_taken_isbn_is_409_naming_isbn(client):
    create_book(client, isbn="978-0-441-17271-9")
    response = client.post(
        "/books", json={"title": "Copy", "author_id": 1, "isbn": "9780441172719"}
    )
    assert response.status_code == 409, body(response)
    assert response.mimetype == PROBLEM, response.mimetype
    assert "isbn" in response.get_json().get("errors", {}), body(response)


@pytest.mark.grade(points=1, hint="A taken author name is a 409 whose errors name 'name'.")
def test_taken_author_name_is_409_naming_name(client):
    client.post("/authors", json={"name": "Only One"})
    response = client.post("/authors", json={"name": "Only One"})
    assert response.status_code == 409, body(response)
    assert "name" in response.get_json().get("errors", {}), body(response)


@pytest.mark.grade(
    points=2, hint="year must be from 1450 to next year, and a title at most 300 characters."
)
def test_senseless_year_and_overlong_title_are_422(client):
    response = client.post("/books", json={"title": "x" * 301, "author": "A", "year": 1200})
    assert response.status_code == 422, body(response)
    assert {"title", "year"} <= set(response.get_json()["errors"]), body(response)
    assert client.get("/authors").get_json() == [], "a refused book stored its author"


@pytest.mark.grade(
    points=1, hint="A refused book leaves nothing behind: save a new author and its book at once."
)
def test_refused_book_leaves_no_author_behind(client):
    create_book(client, isbn="9780441172719")
    response = client.post("/books", json={"title": "T", "author": "New", "isbn": "9780441172719"})
    assert response.status_code == 409, body(response)
    assert [author["name"] for author in client.get("/authors").get_json()] == ["Frank Herbert"]
