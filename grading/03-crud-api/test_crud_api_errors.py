"""Hidden graders of lab 03: error responses as problem details, and no 500 for any input."""

import pytest

PROBLEM = "application/problem+json"


def body(response):
    """The response body as text, for assertion messages."""
    return response.text


def assert_problem(response, status):
    """The response is a problem details document with this status."""
    assert response.status_code == status, body(response)
    assert response.mimetype == PROBLEM, (response.mimetype, body(response))
    problem = response.get_json()
    assert problem.get("status") == status, problem
    assert isinstance(problem.get("title"), str) and problem["title"], problem
    assert isinstance(problem.get("type"), str) and problem["type"], problem


@pytest.mark.grade(
    points=1, hint="A body that is not valid JSON is a 400 problem (get_json(silent=True))."
)
def test_malformed_json_is_400_problem(client):
    response = client.post(
        "/authors", data='{"name": ', headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 400)


@pytest.mark.grade(points=1, hint="A body sent as a form or text, not JSON, is a 415 problem.")
def test_non_json_body_is_415_problem(client):
    assert_problem(client.post("/authors", data={"name": "Form Person"}), 415)
    assert_problem(
        client.post("/books", data="title=x", headers={"Content-Type": "text/plain"}), 415
    )


@pytest.mark.grade(
    points=1, hint="A JSON array or string where an object is expected is a 400 or 422 problem."
)
def test_json_that_is_not_an_object_is_rejected(client):
    for payload in ([{"name": "In A List"}], "just a string", 12):
        response = client.post("/authors", json=payload)
        assert response.status_code in (400, 422), (payload, body(response))
        assert response.mimetype == PROBLEM, (payload, response.mimetype)


@pytest.mark.grade(points=1, hint="A URL no route matches is a 404 problem, not Flask's HTML page.")
def test_unknown_url_is_404_problem(client):
    assert_problem(client.get("/no/such/place"), 404)
    assert_problem(client.get("/authors/not-a-number"), 404)


@pytest.mark.grade(
    points=1, hint="A method a route does not allow is a 405 problem that keeps its Allow header."
)
def test_wrong_method_is_405_problem_with_allow(client):
    response = client.put("/authors", json={"name": "Put Person"})
    assert_problem(response, 405)
    assert "POST" in response.headers.get("Allow", ""), response.headers


@pytest.mark.grade(
    points=1, hint="A 422 problem carries 'errors': an object from field name to message."
)
def test_422_problem_has_an_errors_object(client):
    response = client.post("/reviews", json={"rating": "lots"})
    assert_problem(response, 422)
    errors = response.get_json().get("errors")
    assert isinstance(errors, dict) and errors, body(response)
    assert all(isinstance(message, str) or isinstance(message, list) for message in errors.values())


# Bodies a careless or hostile client might send: wrong types, nulls, huge and negative numbers.
STRANGE_PAYLOADS = [
    None,
    [],
    {"name": None, "title": None, "author": None, "rating": None, "book_id": None},
    {"name": {}, "title": [], "year": {}, "author": {}, "author_id": "1", "bio": []},
    {"book_id": "1", "username": 5, "rating": [5], "body": {}},
    {"year": 10**30, "author_id": 10**30, "book_id": 10**30, "rating": 10**30},
    {"year": -(10**30), "author_id": -1, "book_id": 0, "rating": -3},
    {"year": 1.5e308, "author_id": True, "book_id": False, "rating": 2.0},
]


def existing_rows(client):
    """Create a book (with its author) and a review of it; return the three ids."""
    book = client.post("/books", json={"title": "Target", "author": "Target Author"})
    assert book.status_code == 201, body(book)
    book = book.get_json()
    review = client.post(
        "/reviews", json={"book_id": book["id"], "username": "target", "rating": 3}
    )
    assert review.status_code == 201, body(review)
    return {"author": book["author_id"], "book": book["id"], "review": review.get_json()["id"]}


def assert_never_500(client, method, url):
    """Every strange payload gets an answer below 500, and every error is a problem."""
    for payload in STRANGE_PAYLOADS:
        response = getattr(client, method)(url, json=payload)
        assert response.status_code < 500, (method, url, payload, body(response))
        if response.status_code >= 400:
            assert response.mimetype == PROBLEM, (method, url, payload, response.mimetype)


@pytest.mark.grade(
    points=0.5, hint="POST /authors never answers 500: check the type of name and bio."
)
def test_post_authors_never_answers_500(client):
    assert_never_500(client, "post", "/authors")


@pytest.mark.grade(
    points=0.5, hint="PATCH /authors/<id> never answers 500: validate it like POST /authors."
)
def test_patch_author_never_answers_500(client):
    ids = existing_rows(client)
    assert_never_500(client, "patch", f"/authors/{ids['author']}")


@pytest.mark.grade(
    points=0.5,
    hint="POST /books never answers 500: check title, author, year and author_id "
    "(types, huge numbers, true/false).",
)
def test_post_books_never_answers_500(client):
    assert_never_500(client, "post", "/books")


@pytest.mark.grade(
    points=0.5, hint="PATCH /books/<id> never answers 500: validate it like POST /books."
)
def test_patch_book_never_answers_500(client):
    ids = existing_rows(client)
    assert_never_500(client, "patch", f"/books/{ids['book']}")


@pytest.mark.grade(
    points=0.5,
    hint="POST /reviews never answers 500: check book_id, username, rating and body "
    "(types, huge numbers, true/false).",
)
def test_post_reviews_never_answers_500(client):
    existing_rows(client)
    assert_never_500(client, "post", "/reviews")


@pytest.mark.grade(
    points=0.5, hint="PATCH /reviews/<id> never answers 500: check rating and body like POST."
)
def test_patch_review_never_answers_500(client):
    ids = existing_rows(client)
    assert_never_500(client, "patch", f"/reviews/{ids['review']}")


@pytest.mark.grade(
    points=0.5,
    hint="Ids too big for the database, in a URL or in ?book_id=, are a 404 or an empty list, "
    "never 500.",
)
def test_huge_ids_in_urls_never_answer_500(client):
    existing_rows(client)
    response = client.get("/books/99999999999999999999999")
    assert response.status_code == 404, body(response)
    assert response.mimetype == PROBLEM, response.mimetype
    response = client.get("/reviews?book_id=99999999999999999999999")
    assert response.status_code == 200, body(response)
    assert response.get_json() == [], body(response)
