"""Hidden graders of lab 01: the /books collection and single books."""

import pytest

BOOK = {"title": "The Dispossessed", "author": "Ursula K. Le Guin", "year": 1974}


def body(response):
    """The response body as text, for assertion messages."""
    return response.text


def error_message(response):
    """The error text of a JSON error body: lab 01's "error", or "detail" in later labs."""
    data = response.get_json(silent=True) if response.is_json else None
    if not isinstance(data, dict):
        return None
    message = data.get("error", data.get("detail"))
    return message if isinstance(message, str) and message else None


def create(client, **fields):
    """POST a book (BOOK with ``fields`` changed) and return its JSON; the POST must succeed."""
    response = client.post("/books", json={**BOOK, **fields})
    assert response.status_code == 201, body(response)
    return response.get_json()


@pytest.mark.grade(
    points=2, hint="POST /books with title, author and year answers 201 and echoes the book."
)
def test_create_book_answers_201_with_the_book(client):
    response = client.post("/books", json=BOOK)
    assert response.status_code == 201, body(response)
    book = response.get_json()
    assert isinstance(book, dict), body(response)
    assert {key: book.get(key) for key in BOOK} == BOOK, body(response)
    assert isinstance(book.get("id"), int), body(response)


@pytest.mark.grade(
    points=1, hint="The year of a new book is optional; without it the book is still created."
)
def test_create_book_without_year_is_accepted(client):
    response = client.post("/books", json={"title": "Untitled Notes", "author": "Anon Ymous"})
    assert response.status_code == 201, body(response)
    assert response.get_json()["title"] == "Untitled Notes", body(response)


@pytest.mark.grade(points=1, hint="Every new book gets its own id.")
def test_created_books_get_distinct_ids(client):
    first = create(client, title="First of Two")
    second = create(client, title="Second of Two")
    assert first["id"] != second["id"], (first, second)


@pytest.mark.grade(
    points=2, hint="GET /books lists every book as an object with id, title, author, year."
)
def test_list_contains_created_book_with_its_fields(client):
    created = create(client, title="Listed Book")
    response = client.get("/books")
    assert response.status_code == 200, body(response)
    books = response.get_json()
    assert isinstance(books, list), body(response)
    for book in books:
        assert {"id", "title", "author", "year"} <= set(book), book
    assert created["id"] in [book["id"] for book in books], body(response)


@pytest.mark.grade(
    points=1, hint="A new book without a title must be rejected with a 4xx status, not stored."
)
def test_create_book_without_title_is_rejected(client):
    response = client.post("/books", json={"author": "Nobody", "year": 2000})
    assert response.status_code in (400, 422), body(response)
    titles = [book["title"] for book in client.get("/books").get_json()]
    assert None not in titles, titles


@pytest.mark.grade(
    points=1, hint="A POST whose body is not JSON must get a 4xx answer, never a crash."
)
def test_create_book_with_a_non_json_body_is_rejected(client):
    response = client.post("/books", data="title=Oops", headers={"Content-Type": "text/plain"})
    assert response.status_code in (400, 415), body(response)


@pytest.mark.grade(
    points=2, hint="GET /books/<int:book_id> answers 200 with the book that has that id."
)
def test_get_book_returns_the_book_with_that_id(client):
    create(client, title="Not This One")
    wanted = create(client, title="This One", year=2001)
    response = client.get(f"/books/{wanted['id']}")
    assert response.status_code == 200, body(response)
    book = response.get_json()
    assert book["id"] == wanted["id"] and book["title"] == "This One", body(response)
    assert book["author"] == BOOK["author"] and book["year"] == 2001, body(response)


@pytest.mark.grade(
    points=1, hint="An unknown book id answers 404 with a JSON body, not an HTML page."
)
def test_missing_book_answers_404_with_json(client):
    response = client.get("/books/987654")
    assert response.status_code == 404, body(response)
    assert response.is_json, body(response)


@pytest.mark.grade(
    points=1,
    hint="A body that is broken JSON is a 400 with {'error': ...}: use get_json(silent=True).",
)
def test_create_book_with_malformed_json_is_400_with_an_error(client):
    response = client.post(
        "/books", data='{"title": "Half', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, body(response)
    assert error_message(response), body(response)


@pytest.mark.grade(
    points=1, hint="A rejected book answers 400 with {'error': '...'} saying what is wrong."
)
def test_rejected_book_answers_an_error_message(client):
    for data in (
        {"author": "No Title"},
        {"title": "No Author"},
        {"title": "T", "author": "A", "year": "1999"},
    ):
        response = client.post("/books", json=data)
        assert response.status_code in (400, 422), (data, body(response))
        assert error_message(response), (data, body(response))


@pytest.mark.grade(
    points=1, hint="A missing book answers 404 with {'error': '...'}, like every other error."
)
def test_missing_book_answers_an_error_message(client):
    response = client.get("/books/424242")
    assert response.status_code == 404, body(response)
    assert error_message(response), body(response)


@pytest.mark.grade(
    points=1, hint="Store the title and the author without the spaces around them (.strip())."
)
def test_title_and_author_are_stored_without_surrounding_spaces(client):
    book = create(client, title="  Padded Title ", author=" Padded Author  ")
    assert (book["title"], book["author"]) == ("Padded Title", "Padded Author"), book
    stored = client.get(f"/books/{book['id']}").get_json()
    assert (stored["title"], stored["author"]) == ("Padded Title", "Padded Author"), stored
