"""Visible tests of lab 03: the CRUD API and its error responses."""

import pytest

# Written before accounts existed: run with LOGIN_DISABLED (see conftest.py).
pytestmark = pytest.mark.login_disabled

PROBLEM = "application/problem+json"


def body(response):
    """The response body as text, for assertion messages."""
    return response.get_data(as_text=True)


@pytest.mark.grade(
    points=2, hint="POST /authors answers 201 with the author and a Location header."
)
def test_create_author_returns_201_and_location(client):
    response = client.post("/authors", json={"name": "Ursula K. Le Guin"})
    assert response.status_code == 201, body(response)
    author_id = response.get_json()["id"]
    assert response.headers["Location"].endswith(f"/authors/{author_id}"), response.headers


@pytest.mark.grade(points=2, hint="PATCH changes only the fields present in the body.")
def test_patch_book_changes_only_given_fields(client):
    book = client.post("/books", json={"title": "Kindred", "author": "Octavia E. Butler"})
    book_id = book.get_json()["id"]
    response = client.patch(f"/books/{book_id}", json={"year": 1979})
    assert response.status_code == 200, body(response)
    assert response.get_json()["title"] == "Kindred", body(response)
    assert response.get_json()["year"] == 1979, body(response)


@pytest.mark.grade(points=2, hint="DELETE answers 204 with an empty body, then the book is gone.")
def test_delete_book_returns_204(client):
    book_id = client.post("/books", json={"title": "Gone", "author": "Someone"}).get_json()["id"]
    response = client.delete(f"/books/{book_id}")
    assert response.status_code == 204, body(response)
    assert response.data == b""
    assert client.get(f"/books/{book_id}").status_code == 404


@pytest.mark.grade(points=2, hint="POST /reviews creates a review of a book by a username.")
def test_create_review(client):
    book_id = client.post("/books", json={"title": "Piranesi", "author": "S. Clarke"}).get_json()[
        "id"
    ]
    data = {"book_id": book_id, "username": "ada", "rating": 5, "body": "Wonderful."}
    response = client.post("/reviews", json=data)
    assert response.status_code == 201, body(response)
    assert response.get_json()["rating"] == 5, body(response)


@pytest.mark.grade(points=1, hint="A missing resource answers a 404 application/problem+json body.")
def test_missing_author_is_a_404_problem(client):
    response = client.get("/authors/12345")
    assert response.status_code == 404, body(response)
    assert response.mimetype == PROBLEM, response.mimetype
    assert response.get_json()["status"] == 404, body(response)


@pytest.mark.grade(
    points=1, hint="Invalid fields answer 422 with an 'errors' object naming each field."
)
def test_invalid_fields_are_a_422_problem(client):
    response = client.post("/books", json={"title": "", "author": "X", "year": "soon"})
    assert response.status_code == 422, body(response)
    assert response.mimetype == PROBLEM, response.mimetype
    assert {"title", "year"} <= set(response.get_json()["errors"]), body(response)
