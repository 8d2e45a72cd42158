"""Visible tests of lab 02: the /books routes read and write the database."""

import pytest
from bookshelf import crud


@pytest.mark.grade(points=2, hint="POST /books stores the book in the database (crud.create_book).")
def test_posted_book_is_stored_in_the_database(app, client):
    response = client.post("/books", json={"title": "Dawn", "author": "Octavia E. Butler"})
    assert response.status_code == 201, response.get_data(as_text=True)
    with app.app_context():
        book = crud.get_book(response.get_json()["id"])
        assert book is not None, "the new book is not in the database"
        assert (book.title, book.author.name) == ("Dawn", "Octavia E. Butler")


@pytest.mark.grade(points=2, hint="GET /books answers the books stored in the database.")
def test_list_books_reads_the_database(app, client):
    with app.app_context():
        crud.create_book("Exhalation", crud.create_author("Ted Chiang"), 2019)
    response = client.get("/books")
    assert response.status_code == 200, response.get_data(as_text=True)
    titles = [book["title"] for book in response.get_json()]
    assert titles == ["Exhalation"], response.get_data(as_text=True)
