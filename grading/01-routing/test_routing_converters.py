"""Hidden graders of lab 01: dynamic routes and their converters."""

from urllib.parse import quote

import pytest

BOOK = {"title": "Parable of the Sower", "author": "Octavia E. Butler", "year": 1993}


def body(response):
    """The response body as text, for assertion messages."""
    return response.text


def create(client, **fields):
    """POST a book (BOOK with ``fields`` changed) and return its JSON; the POST must succeed."""
    response = client.post("/books", json={**BOOK, **fields})
    assert response.status_code == 201, body(response)
    return response.get_json()


@pytest.mark.grade(
    points=1, hint="Use the int converter: /books/<int:book_id> must not match /books/abc."
)
def test_non_integer_book_id_is_404(client):
    book = create(client)
    assert client.get(f"/books/{book['id']}").status_code == 200
    response = client.get("/books/abc")
    assert response.status_code == 404, body(response)


@pytest.mark.grade(
    points=1,
    hint="The int converter only matches digits: /books/-1 and /books/1.5 are not book URLs.",
)
def test_negative_or_decimal_book_id_is_404(client):
    book = create(client)
    assert client.get(f"/books/{book['id']}").status_code == 200
    assert client.get("/books/-1").status_code == 404
    assert client.get("/books/1.5").status_code == 404


@pytest.mark.grade(points=2, hint="GET /books/author/<name> lists only the books by that author.")
def test_books_by_author_lists_only_their_books(client):
    create(client, title="Zebra Author Book", author="Zed Zebrowski")
    create(client, title="Other Author Book", author="Someone Else")
    response = client.get("/books/author/" + quote("Zed Zebrowski"))
    assert response.status_code == 200, body(response)
    titles = [book["title"] for book in response.get_json()]
    assert titles == ["Zebra Author Book"], body(response)


@pytest.mark.grade(points=1, hint="Compare author names without caring about upper or lower case.")
def test_books_by_author_ignores_case(client):
    create(client, title="Case Book", author="Mixed Case Writer")
    response = client.get("/books/author/" + quote("mixed CASE writer"))
    assert response.status_code == 200, body(response)
    assert [book["title"] for book in response.get_json()] == ["Case Book"], body(response)


@pytest.mark.grade(points=1, hint="An author without books gives an empty JSON list, not a 404.")
def test_books_by_unknown_author_is_an_empty_list(client):
    create(client)
    response = client.get("/books/author/" + quote("Nobody At All"))
    assert response.status_code == 200, body(response)
    assert response.get_json() == [], body(response)


@pytest.mark.grade(
    points=1, hint="Spaces around the author's name in the URL do not matter (strip the name)."
)
def test_books_by_author_ignores_surrounding_spaces(client):
    create(client, title="Spaced Book", author="Spaced Writer")
    response = client.get("/books/author/" + quote("  Spaced Writer "))
    assert response.status_code == 200, body(response)
    assert [book["title"] for book in response.get_json()] == ["Spaced Book"], body(response)
