"""Visible tests of lab 01: run `pytest` in the lab folder to see how far you are."""

import pytest

# Written before accounts existed: run with LOGIN_DISABLED (see conftest.py).
pytestmark = pytest.mark.login_disabled

NEW_BOOK = {"title": "The Dispossessed", "author": "Ursula K. Le Guin", "year": 1974}


@pytest.mark.grade(points=1, hint="GET /books should answer 200 with a JSON list of books.")
def test_list_books_returns_a_json_list(client):
    response = client.get("/books")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert isinstance(response.get_json(), list), response.get_data(as_text=True)


@pytest.mark.grade(points=2, hint="POST /books with a JSON body should answer 201 and the book.")
def test_create_book_returns_201_and_the_book(client):
    response = client.post("/books", json=NEW_BOOK)
    assert response.status_code == 201, response.get_data(as_text=True)
    book = response.get_json()
    assert {k: book[k] for k in NEW_BOOK} == NEW_BOOK, book
    assert isinstance(book["id"], int), book


@pytest.mark.grade(points=2, hint="GET /books/<int:book_id> should return the book with that id.")
def test_get_book_returns_the_book(client):
    book_id = client.post("/books", json=NEW_BOOK).get_json()["id"]
    response = client.get(f"/books/{book_id}")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["title"] == NEW_BOOK["title"], response.get_data(as_text=True)


@pytest.mark.grade(points=1, hint="An id no book has should answer 404 with a JSON body.")
def test_missing_book_is_404_with_json(client):
    response = client.get("/books/999999")
    assert response.status_code == 404, response.get_data(as_text=True)
    assert response.is_json, response.get_data(as_text=True)


@pytest.mark.grade(points=1, hint="/books accepts only GET and POST; DELETE should be 405.")
def test_delete_on_the_collection_is_405(client):
    response = client.delete("/books")
    assert response.status_code == 405, response.get_data(as_text=True)


@pytest.mark.grade(points=1, hint="?q= keeps only the books whose title contains the text.")
def test_search_filters_titles(client):
    client.post("/books", json=NEW_BOOK)
    response = client.get("/books?q=DISPOSSESSED")
    titles = [book["title"] for book in response.get_json()]
    assert titles == ["The Dispossessed"], response.get_data(as_text=True)
