"""Hidden graders of lab 05: every write endpoint against a set of bad input, in production mode.

Each test sends one endpoint malformed JSON, a body that is not JSON, JSON that is not an
object, wrong types, huge numbers, empty and overlong strings, unknown fields and wrong methods.
Every answer must be the one problem+json shape with the right status, never a 500, and the
database must hold exactly what it held before.
"""

import pytest

PROBLEM = "application/problem+json"
HUGE = 10**30
LONG = "x" * 10_000
# PostgreSQL cannot store the NUL character in text: a string holding one is refused first.
NUL = "before\x00after"


def assert_problem(response, status, context):
    """The response is a problem document with this status (any 4xx when ``status`` is None)."""
    expected = status or response.status_code
    assert response.status_code == expected and 400 <= expected < 500, (
        context,
        response.status_code,
        response.text,
    )
    assert response.mimetype == PROBLEM, (context, response.mimetype, response.text)
    document = response.get_json()
    assert document.get("status") == expected and document.get("title"), (context, document)
    return document


def snapshot(database):
    """Every row of every table: what a rejected request must leave untouched."""
    return {
        table: database.rows(f"SELECT * FROM {table} ORDER BY id")
        for table in ("authors", "books", "users", "reviews")
    }


def library(client):
    """One author, one book by them and one review of it; returns their JSON."""
    book = client.post(
        "/books", json={"title": "Target", "author": "Target Author", "isbn": "9780441172719"}
    )
    assert book.status_code == 201, book.text
    book = book.get_json()
    review = client.post("/reviews", json={"book_id": book["id"], "username": "t", "rating": 3})
    assert review.status_code == 201, review.text
    return book["author_id"], book["id"], review.get_json()["id"]


def send_bad_bodies(client, method, url, field_cases):
    """Send the shared bad bodies, then ``field_cases``: (body, field that must be named)."""
    send = getattr(client, method)
    assert_problem(send(url, data='{"title": ', content_type="application/json"), 400, "broken")
    assert_problem(send(url, data="title=x"), 415, "form body")
    assert_problem(send(url, data="null", content_type="text/plain"), 415, "text body")
    response = send(url, data="null", content_type="application/json")
    assert response.status_code in (400, 422) and response.mimetype == PROBLEM, response.text
    for payload in ([], [{"title": "x"}], "text", 7):
        response = send(url, json=payload)
        assert response.status_code in (400, 422), (payload, response.text)
        assert response.mimetype == PROBLEM, (payload, response.mimetype)
    for payload, field in field_cases:
        document = assert_problem(send(url, json=payload), 422, payload)
        assert field in (document.get("errors") or {}), (payload, document)


def send_wrong_methods(client, url, methods, allowed):
    """Each method is a 405 problem whose Allow header lists ``allowed``."""
    for method in methods:
        response = client.open(url, method=method, json={})
        assert_problem(response, 405, (method, url))
        allow = {m.strip() for m in response.headers.get("Allow", "").split(",")}
        assert set(allowed) <= allow, (method, url, response.headers.get("Allow"))


@pytest.mark.app_config(TESTING=False)
@pytest.mark.grade(
    points=2,
    hint="POST /authors: 400/415/422/405 problems for every bad body, NUL characters or method.",
)
def test_bad_input_to_authors_collection(client, database):
    library(client)
    before = snapshot(database)
    cases = [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": 7}, "name"),
        ({"name": True}, "name"),
        ({"name": LONG}, "name"),
        ({"name": "Fine", "bio": 12}, "bio"),
        ({"name": "Fine", "bio": ["x"]}, "bio"),
        ({"name": "Fine", "bio": LONG}, "bio"),
        ({"name": "Fine", "nickname": "F"}, "nickname"),
        ({"name": "Fine", "id": 1}, "id"),
        ({"name": "Fine", "books": []}, "books"),
        ({"name": HUGE}, "name"),
        ({"name": NUL}, "name"),
        ({"name": "Fine", "bio": NUL}, "bio"),
    ]
    send_bad_bodies(client, "post", "/authors", cases)
    send_wrong_methods(client, "/authors", ("PUT", "PATCH", "DELETE"), ("GET", "POST"))
    assert snapshot(database) == before


@pytest.mark.app_config(TESTING=False)
@pytest.mark.grade(
    points=2,
    hint="PATCH /authors/<id>: bad bodies and methods are problems and leave the author as it was.",
)
def test_bad_input_to_one_author(client, database):
    author_id, _, _ = library(client)
    before = snapshot(database)
    url = f"/authors/{author_id}"
    cases = [
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"name": ["x"]}, "name"),
        ({"name": LONG}, "name"),
        ({"bio": 1.5}, "bio"),
        ({"bio": {}}, "bio"),
        ({"bio": NUL}, "bio"),
        ({"id": 5}, "id"),
        ({"name": "Fine", "age": HUGE}, "age"),
    ]
    send_bad_bodies(client, "patch", url, cases)
    send_wrong_methods(client, url, ("PUT", "POST"), ("GET", "PATCH", "DELETE"))
    assert_problem(client.patch("/authors/0", json={"bio": "x"}), 404, "id 0")
    for bad in (f"/authors/{HUGE}", "/authors/-1"):  # no route matches: 404 or 405
        assert_problem(client.patch(bad, json={"bio": "x"}), None, bad)
    assert snapshot(database) == before


@pytest.mark.app_config(TESTING=False)
@pytest.mark.grade(
    points=3,
    hint="POST /books: every bad field (types, huge numbers, blanks, NUL, unknown names) is a 422.",
)
def test_bad_input_to_books_collection(client, database):
    _, book_id, _ = library(client)
    before = snapshot(database)
    cases = [
        ({"author": "A"}, "title"),
        ({"title": "", "author": "A"}, "title"),
        ({"title": " ", "author": "A"}, "title"),
        ({"title": 12, "author": "A"}, "title"),
        ({"title": LONG, "author": "A"}, "title"),
        ({"title": "T", "author": ""}, "author"),
        ({"title": "T", "author": LONG}, "author"),
        ({"title": "T", "author": "A", "year": HUGE}, "year"),
        ({"title": "T", "author": "A", "year": -HUGE}, "year"),
        ({"title": "T", "author": "A", "year": 1.5e308}, "year"),
        ({"title": "T", "author": "A", "year": True}, "year"),
        ({"title": "T", "author": "A", "year": "1999"}, "year"),
        ({"title": "T", "author": "A", "year": 20000}, "year"),
        ({"title": "T", "author_id": HUGE}, "author_id"),
        ({"title": "T", "author_id": True}, "author_id"),
        ({"title": "T", "author_id": 987654}, "author_id"),
        ({"title": "T", "author": "A", "isbn": ""}, "isbn"),
        ({"title": "T", "author": "A", "isbn": HUGE}, "isbn"),
        ({"title": "T", "author": "A", "isbn": LONG}, "isbn"),
        ({"title": "T", "author": "A", "pages": 100}, "pages"),
        ({"title": "T", "author": "A", "id": book_id}, "id"),
        ({"title": NUL, "author": "A"}, "title"),
        ({"title": "T", "author": NUL}, "author"),
        ({"title": "T", "author": "A", "isbn": "978044117271\x009"}, "isbn"),
    ]
    send_bad_bodies(client, "post", "/books", cases)
    send_wrong_methods(client, "/books", ("PUT", "PATCH", "DELETE"), ("GET", "POST"))
    for query in ({"limit": HUGE}, {"limit": "many"}, {"q": LONG}, {"limit": -HUGE}):
        assert client.get("/books", query_string=query).status_code == 200, query
    assert snapshot(database) == before


@pytest.mark.app_config(TESTING=False)
@pytest.mark.grade(
    points=3,
    hint="PATCH /books/<id>: check each field sent as POST does; a refused PATCH changes nothing.",
)
def test_bad_input_to_one_book(client, database):
    _, book_id, _ = library(client)
    before = snapshot(database)
    url = f"/books/{book_id}"
    cases = [
        ({"title": ""}, "title"),
        ({"title": None}, "title"),
        ({"title": LONG}, "title"),
        ({"title": "Fine", "year": HUGE}, "year"),
        ({"year": 1.0}, "year"),
        ({"year": 1200}, "year"),
        ({"author": None}, "author"),
        ({"author": LONG}, "author"),
        ({"author_id": "1"}, "author_id"),
        ({"author_id": 0}, "author_id"),
        ({"isbn": "abc"}, "isbn"),
        ({"isbn": ["9780441172719"]}, "isbn"),
        ({"title": "Fine", "author_name": "A"}, "author_name"),
        ({"title": NUL}, "title"),
    ]
    send_bad_bodies(client, "patch", url, cases)
    send_wrong_methods(client, url, ("PUT", "POST"), ("GET", "PATCH", "DELETE"))
    assert_problem(client.patch("/books/987654", json={"title": "x"}), 404, "unknown id")
    for bad in (f"/books/{HUGE}", "/books/-3"):  # no route matches: 404 or 405
        assert_problem(client.patch(bad, json={"title": "x"}), None, bad)
    assert snapshot(database) == before


@pytest.mark.app_config(TESTING=False)
@pytest.mark.grade(
    points=3,
    hint="POST /reviews: bad ratings, ids, usernames, NUL characters and unknown fields are 422s.",
)
def test_bad_input_to_reviews_collection(client, database):
    _, book_id, _ = library(client)
    before = snapshot(database)
    good = {"book_id": book_id, "username": "new-reader", "rating": 4}
    cases = [
        ({**good, "rating": 0}, "rating"),
        ({**good, "rating": HUGE}, "rating"),
        ({**good, "rating": True}, "rating"),
        ({**good, "rating": 4.0}, "rating"),
        ({**good, "rating": "4"}, "rating"),
        ({**good, "book_id": HUGE}, "book_id"),
        ({**good, "book_id": -1}, "book_id"),
        ({**good, "book_id": 424242}, "book_id"),
        ({**good, "username": ""}, "username"),
        ({**good, "username": "   "}, "username"),
        ({**good, "username": LONG}, "username"),
        ({**good, "username": 5}, "username"),
        ({**good, "body": 5}, "body"),
        ({**good, "body": LONG}, "body"),
        ({**good, "stars": 5}, "stars"),
        ({**good, "user_id": 1}, "user_id"),
        ({**good, "username": NUL}, "username"),
        ({**good, "body": NUL}, "body"),
    ]
    send_bad_bodies(client, "post", "/reviews", cases)
    send_wrong_methods(client, "/reviews", ("PUT", "PATCH", "DELETE"), ("GET", "POST"))
    for query in ({"book_id": HUGE}, {"book_id": "x"}, {"book_id": -1}):
        response = client.get("/reviews", query_string=query)
        assert response.status_code in (200, 422), (query, response.text)
    assert snapshot(database) == before


@pytest.mark.app_config(TESTING=False)
@pytest.mark.grade(
    points=2,
    hint="PATCH /reviews/<id> takes only rating and body; anything else is a 422 naming it.",
)
def test_bad_input_to_one_review(client, database):
    _, _, review_id = library(client)
    before = snapshot(database)
    url = f"/reviews/{review_id}"
    cases = [
        ({"rating": 6}, "rating"),
        ({"rating": -HUGE}, "rating"),
        ({"rating": None}, "rating"),
        ({"rating": False}, "rating"),
        ({"body": 3}, "body"),
        ({"body": {"text": "x"}}, "body"),
        ({"body": LONG}, "body"),
        ({"book_id": 1}, "book_id"),
        ({"username": "someone-else"}, "username"),
        ({"rating": 3, "comment": "x"}, "comment"),
        ({"body": NUL}, "body"),
    ]
    send_bad_bodies(client, "patch", url, cases)
    send_wrong_methods(client, url, ("PUT", "POST"), ("GET", "PATCH", "DELETE"))
    assert_problem(client.patch("/reviews/0", json={"rating": 3}), 404, "id 0")
    assert_problem(client.patch(f"/reviews/{HUGE}", json={"rating": 3}), None, "huge id")
    assert snapshot(database) == before
