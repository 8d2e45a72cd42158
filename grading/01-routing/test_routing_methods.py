"""Hidden graders of lab 01: which HTTP methods each route accepts."""

import pytest

BOOK = {"title": "Kindred", "author": "Octavia E. Butler", "year": 1979}


def body(response):
    """The response body as text, for assertion messages."""
    return response.text


@pytest.mark.grade(points=1, hint="GET and POST share the rule /books; DELETE on it answers 405.")
def test_delete_on_books_collection_is_405(client):
    response = client.delete("/books")
    assert response.status_code == 405, body(response)


@pytest.mark.grade(
    points=1, hint="A 405 carries an Allow header; /books should allow GET and POST."
)
def test_405_on_books_lists_allowed_methods(client):
    response = client.put("/books", json=BOOK)
    assert response.status_code == 405, body(response)
    allowed = {method.strip() for method in response.headers.get("Allow", "").split(",")}
    assert {"GET", "POST"} <= allowed, response.headers.get("Allow")


@pytest.mark.grade(
    points=1, hint="A single book is not replaced with PUT or created with POST: both are 405."
)
def test_put_and_post_on_a_book_are_405(client):
    created = client.post("/books", json=BOOK)
    assert created.status_code == 201, body(created)
    url = f"/books/{created.get_json()['id']}"
    assert client.put(url, json=BOOK).status_code == 405
    assert client.post(url, json=BOOK).status_code == 405


@pytest.mark.grade(points=1, hint="Listing by author is read-only: POST there answers 405.")
def test_post_on_books_by_author_is_405(client):
    response = client.post("/books/author/Someone", json=BOOK)
    assert response.status_code == 405, body(response)
