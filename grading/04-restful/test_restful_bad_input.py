"""Hidden graders of lab 04: every resource, in the production configuration, against bad input.

Each test runs the app with ``TESTING=False``, as it runs in production: Flask then stops
propagating exceptions, which is when Flask-RESTful's own error handling shows (a generic 500, or
``{"message": ...}`` instead of problem details). One test per URL, so the failing one names the
resource to fix. Every bad request must answer the course's problem details, never a 500, and
must leave the stored data as it was.
"""

import pytest

PROBLEM = "application/problem+json"
PRODUCTION = pytest.mark.app_config(TESTING=False)
HUGE = 10**30


def assert_problem(response, status, label, field=None):
    """``response`` is a problem details document with ``status`` (and an error for ``field``)."""
    shown = f"{label}: answered {response.status_code} {response.mimetype} {response.text[:300]}"
    assert response.status_code != 500, shown
    assert response.status_code == status, f"expected {status}. {shown}"
    assert response.mimetype == PROBLEM, f"expected {PROBLEM}. {shown}"
    problem = response.get_json()
    assert problem.get("status") == status, shown
    assert isinstance(problem.get("title"), str) and problem["title"], shown
    if field is not None:
        errors = problem.get("errors")
        assert isinstance(errors, dict) and field in errors, f"expected errors[{field!r}]. {shown}"


def assert_broken_bodies_refused(client, method, url):
    """Broken JSON is a 400, a body that is not JSON a 415, JSON that is not an object a 422."""
    send = getattr(client, method)
    broken = send(url, data='{"name": ', content_type="application/json")
    assert_problem(broken, 400, f"{method.upper()} {url} with broken JSON")
    as_text = send(url, data="name=x", content_type="text/plain")
    assert_problem(as_text, 415, f"{method.upper()} {url} with a text/plain body")
    as_list = send(url, json=["not", "an", "object"])
    assert_problem(as_list, 422, f"{method.upper()} {url} with a JSON array")


def assert_fields_refused(client, method, url, cases):
    """Each ``(body, field)`` of ``cases`` is a 422 whose ``errors`` names ``field``."""
    for body, field in cases:
        response = getattr(client, method)(url, json=body)
        assert_problem(response, 422, f"{method.upper()} {url} with {body!r}", field)


def assert_methods_refused(client, url, methods, allowed):
    """Each of ``methods`` is a 405 problem whose Allow header lists ``allowed``."""
    for method in methods:
        response = client.open(url, method=method, json={})
        assert_problem(response, 405, f"{method} {url}")
        allow = {m.strip() for m in response.headers.get("Allow", "").split(",")}
        assert set(allowed) <= allow, f"{method} {url}: Allow is {response.headers.get('Allow')!r}"


def assert_missing_everywhere(client, url, methods):
    """``url`` names nothing: every method answers a 404 problem (the abort(404) path)."""
    for method in methods:
        response = client.open(url, method=method, json={"rating": 3, "bio": "x", "title": "x"})
        assert_problem(response, 404, f"{method} {url}")


def created(response, label):
    """The JSON of a successful create, failing with the body otherwise."""
    assert response.status_code == 201, f"{label}: {response.status_code} {response.text[:300]}"
    return response.get_json()


@PRODUCTION
@pytest.mark.grade(
    points=2,
    hint="/authors in production: 400/415/422 (unknown fields too)/409/405 are all problem+json "
    "answered by your handlers; make ProblemApi.handle_error re-raise.",
)
def test_authors_collection_refuses_bad_input_in_production(client, database):
    created(client.post("/authors", json={"name": "Taken Name"}), "POST /authors")
    assert_methods_refused(client, "/authors", ["PUT", "DELETE"], ["GET", "POST"])
    assert_broken_bodies_refused(client, "post", "/authors")
    assert_fields_refused(
        client,
        "post",
        "/authors",
        [
            ({"bio": "no name"}, "name"),
            ({"name": 42}, "name"),
            ({"name": HUGE}, "name"),
            ({"name": "   "}, "name"),
            ({"name": "Ann Leckie", "bio": ["x"]}, "bio"),
            ({"name": "Ann Leckie", "nickname": "Ann"}, "nickname"),
        ],
    )
    taken = client.post("/authors", json={"name": "Taken Name"})
    assert_problem(taken, 409, "POST /authors with a name that is taken")
    names = [row["name"] for row in database.rows("SELECT name FROM authors")]
    assert names == ["Taken Name"], f"refused requests must store nothing; authors: {names}"


@PRODUCTION
@pytest.mark.grade(
    points=2,
    hint="/authors/<id> in production: a missing author is a 404 problem (not Flask-RESTful's "
    "{'message': ...}); PATCH refuses unknown fields; a name clash or an author with books is 409.",
)
def test_author_item_refuses_bad_input_in_production(client, database):
    author = created(client.post("/authors", json={"name": "Ann Leckie"}), "POST /authors")
    created(client.post("/authors", json={"name": "Other Writer"}), "POST /authors")
    url = f"/authors/{author['id']}"
    assert_missing_everywhere(client, "/authors/987654", ["GET", "PATCH", "DELETE"])
    assert_problem(client.get(f"/authors/{HUGE}"), 404, f"GET /authors/{HUGE}")
    assert_methods_refused(client, url, ["PUT", "POST"], ["GET", "PATCH", "DELETE"])
    assert_broken_bodies_refused(client, "patch", url)
    assert_fields_refused(
        client,
        "patch",
        url,
        [
            ({"name": ""}, "name"),
            ({"name": HUGE}, "name"),
            ({"bio": {"text": "x"}}, "bio"),
            ({"id": 99}, "id"),
            ({"name": "Renamed", "books": []}, "books"),
        ],
    )
    assert_problem(client.patch(url, json={"name": "Other Writer"}), 409, f"PATCH {url} clash")
    created(client.post("/books", json={"title": "Ancillary", "author_id": author["id"]}), "book")
    assert_problem(client.delete(url), 409, f"DELETE {url} while the author has books")
    row = database.one("SELECT name, bio FROM authors WHERE id = ?", (author["id"],))
    assert row == {"name": "Ann Leckie", "bio": None}, f"refused requests changed the author: {row}"


@PRODUCTION
@pytest.mark.grade(
    points=2,
    hint="/books in production: wrong types, huge numbers, empty titles, unknown authors and "
    "unknown fields are 422 problems naming the field; PUT/DELETE are 405 with Allow.",
)
def test_books_collection_refuses_bad_input_in_production(client, database):
    assert_methods_refused(client, "/books", ["PUT", "DELETE"], ["GET", "POST"])
    assert_broken_bodies_refused(client, "post", "/books")
    assert_fields_refused(
        client,
        "post",
        "/books",
        [
            ({"author": "Someone"}, "title"),
            ({"title": "", "author": "Someone"}, "title"),
            ({"title": 5, "author": "Someone"}, "title"),
            ({"title": "T", "author": "Someone", "year": HUGE}, "year"),
            ({"title": "T", "author": "Someone", "year": "1999"}, "year"),
            ({"title": "T", "author_id": HUGE}, "author_id"),
            ({"title": "T", "author_id": 4242}, "author_id"),
            ({"title": "T", "author_id": True}, "author_id"),
            ({"title": "T", "author": "Someone", "isbn": "978-0"}, "isbn"),
        ],
    )
    books = database.scalar("SELECT count(*) FROM books")
    authors = database.scalar("SELECT count(*) FROM authors")
    assert (books, authors) == (0, 0), f"refused requests stored {books} books, {authors} authors"


@PRODUCTION
@pytest.mark.grade(
    points=2,
    hint="/books/<id> in production: a missing book is a 404 problem from your handler; PATCH "
    "refuses wrong types, unknown authors and unknown fields with 422; PUT/POST are 405.",
)
def test_book_item_refuses_bad_input_in_production(client, database):
    book = created(client.post("/books", json={"title": "Kindred", "author": "O. Butler"}), "book")
    url = f"/books/{book['id']}"
    assert_missing_everywhere(client, "/books/987654", ["GET", "PATCH", "DELETE"])
    assert_problem(client.delete(f"/books/{HUGE}"), 404, f"DELETE /books/{HUGE}")
    assert_methods_refused(client, url, ["PUT", "POST"], ["GET", "PATCH", "DELETE"])
    assert_broken_bodies_refused(client, "patch", url)
    assert_fields_refused(
        client,
        "patch",
        url,
        [
            ({"title": "  "}, "title"),
            ({"year": 19.5}, "year"),
            ({"year": -HUGE}, "year"),
            ({"author_id": 987654}, "author_id"),
            ({"author": ["O. Butler"]}, "author"),
            ({"pages": 300}, "pages"),
            ({"id": 7}, "id"),
        ],
    )
    row = database.one("SELECT title, year FROM books WHERE id = ?", (book["id"],))
    assert row == {"title": "Kindred", "year": None}, f"refused requests changed the book: {row}"


@PRODUCTION
@pytest.mark.grade(
    points=2,
    hint="/reviews in production: a second review of a book by the same user is a 409 problem "
    "(IntegrityError reaches your handler only if handle_error re-raises); bad fields are 422.",
)
def test_reviews_collection_refuses_bad_input_in_production(client, database):
    book = created(client.post("/books", json={"title": "Piranesi", "author": "S. C."}), "book")
    review = {"book_id": book["id"], "username": "ada", "rating": 4}
    created(client.post("/reviews", json=review), "POST /reviews")
    assert_methods_refused(client, "/reviews", ["PUT", "DELETE"], ["GET", "POST"])
    assert_broken_bodies_refused(client, "post", "/reviews")
    nan = client.post(
        "/reviews",
        data=f'{{"book_id": {book["id"]}, "username": "nan", "rating": NaN}}',
        content_type="application/json",
    )
    assert nan.status_code in (400, 422), f"rating NaN: {nan.status_code} {nan.text[:300]}"
    assert nan.mimetype == PROBLEM, f"rating NaN: {nan.mimetype} {nan.text[:300]}"
    other = {"book_id": book["id"], "username": "grace"}
    assert_fields_refused(
        client,
        "post",
        "/reviews",
        [
            ({}, "rating"),
            ({**other, "rating": 6}, "rating"),
            ({**other, "rating": "5"}, "rating"),
            ({**other, "rating": HUGE}, "rating"),
            ({**other, "rating": True}, "rating"),
            ({**other, "rating": 3, "username": ""}, "username"),
            ({**other, "rating": 3, "book_id": HUGE}, "book_id"),
            ({**other, "rating": 3, "book_id": 987654}, "book_id"),
            ({**other, "rating": 3, "stars": 5}, "stars"),
        ],
    )
    again = client.post("/reviews", json={**review, "rating": 2})
    assert_problem(again, 409, "POST /reviews: the same user reviews the same book twice")
    ratings = [row["rating"] for row in database.rows("SELECT rating FROM reviews")]
    assert ratings == [4], f"refused requests must store nothing; ratings stored: {ratings}"


@PRODUCTION
@pytest.mark.grade(
    points=2,
    hint="/reviews/<id> in production: a missing review is a 404 problem; PATCH accepts only "
    "rating and body (book_id, username and anything else are 422); PUT/POST are 405.",
)
def test_review_item_refuses_bad_input_in_production(client, database):
    book = created(client.post("/books", json={"title": "Kindred", "author": "O. B."}), "book")
    other = created(client.post("/books", json={"title": "Dawn", "author": "O. B."}), "book")
    review = created(
        client.post("/reviews", json={"book_id": book["id"], "username": "ada", "rating": 5}),
        "POST /reviews",
    )
    url = f"/reviews/{review['id']}"
    assert_missing_everywhere(client, "/reviews/987654", ["GET", "PATCH", "DELETE"])
    assert_problem(client.get(f"/reviews/{HUGE}"), 404, f"GET /reviews/{HUGE}")
    assert_methods_refused(client, url, ["PUT", "POST"], ["GET", "PATCH", "DELETE"])
    assert_broken_bodies_refused(client, "patch", url)
    assert_fields_refused(
        client,
        "patch",
        url,
        [
            ({"rating": 9}, "rating"),
            ({"rating": "4"}, "rating"),
            ({"rating": -HUGE}, "rating"),
            ({"body": 5}, "body"),
            ({"book_id": other["id"]}, "book_id"),
            ({"username": "mallory"}, "username"),
        ],
    )
    row = database.one("SELECT rating, book_id FROM reviews WHERE id = ?", (review["id"],))
    assert row == {"rating": 5, "book_id": book["id"]}, f"refused requests changed it: {row}"
