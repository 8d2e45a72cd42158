"""Hidden graders of lab 08: every endpoint loads through its schema and answers with its dump.

One test per URL, in the production configuration (``TESTING=False``, where an exception no
handler answers becomes a 500). Each test sends one good request, whose answer must have the
schema's shape, then a set of bad ones: broken or non-JSON bodies, wrong types, huge numbers,
empty strings, unknown and dump-only fields (``id`` above all), wrong methods. Every bad one is a
problem details answer, never a 500, and the database must show that nothing changed.
"""

import pytest

PROBLEM = "application/problem+json"
HUGE = 10**30
pytestmark = [
    pytest.mark.app_config(TESTING=False, PASSWORD_HASH_METHOD="pbkdf2:sha256:1000"),
]

LIBRARIAN = ("libby", "libby-shelves-books")
FLEDGLING = {
    "title": "Fledgling",
    "author": "Octavia E. Butler",
    "year": 2005,
    "isbn": "0446696161",
}
READER = ("rita", "rita-reads-a-lot")


def assert_problem(response, status, label, field=None):
    """``response`` is a problem details document with ``status`` (and an error for ``field``)."""
    shown = f"{label}: answered {response.status_code} {response.mimetype} {response.text[:300]}"
    assert response.status_code != 500, shown
    assert response.status_code == status, f"expected {status}. {shown}"
    assert response.mimetype == PROBLEM, f"expected {PROBLEM}. {shown}"
    problem = response.get_json()
    assert problem.get("status") == status, shown
    if field is not None:
        errors = problem.get("errors")
        assert isinstance(errors, dict) and field in errors, f"expected errors[{field!r}]. {shown}"
        assert isinstance(errors[field], str) and errors[field], f"one message per field. {shown}"


def assert_bodies_refused(client, method, url, cases):
    """Broken JSON 400, text 415, an array 422, then each ``(body, field)`` a 422 on ``field``."""
    send = getattr(client, method)
    label = f"{method.upper()} {url}"
    assert_problem(send(url, data='{"title": ', content_type="application/json"), 400, label)
    assert_problem(send(url, data="title=x", content_type="text/plain"), 415, label)
    assert_problem(send(url, json=["not", "an", "object"]), 422, f"{label} with a JSON array")
    for data, field in cases:
        assert_problem(send(url, json=data), 422, f"{label} with {data!r}", field)


def assert_methods_refused(client, url, methods):
    """Each of ``methods`` is a 405 problem."""
    for method in methods:
        assert_problem(client.open(url, method=method, json={}), 405, f"{method} {url}")


def log_in_as_librarian(client, runner):
    """Create the librarian with `flask create-user` and log in as them."""
    name, password = LIBRARIAN
    result = runner.invoke(
        args=["create-user", name, "--role", "librarian"], input=f"{password}\n{password}\n"
    )
    assert result.exit_code == 0, f"flask create-user {name}: {result.output}"
    response = client.post("/auth/login", json={"username": name, "password": password})
    assert response.status_code == 200, f"login of {name}: {response.text[:300]}"


def sign_up_reader(client, name=READER[0], password=READER[1]):
    """Sign a reader up (which logs them in)."""
    client.post("/auth/logout")
    response = client.post("/auth/signup", json={"username": name, "password": password})
    assert response.status_code == 201, f"signup of {name}: {response.text[:300]}"


def created(response, what):
    """The JSON of a successful create, failing with the body otherwise."""
    assert response.status_code == 201, f"creating {what}: {response.status_code} {response.text}"
    return response.get_json()


def shelve(client, runner):
    """An author with two books, shelved by the logged-in librarian."""
    log_in_as_librarian(client, runner)
    author = created(client.post("/authors", json={"name": "Octavia E. Butler"}), "an author")
    kindred = created(
        client.post("/books", json={"title": "Kindred", "author_id": author["id"]}), "a book"
    )
    dawn = created(
        client.post("/books", json={"title": "Dawn", "author_id": author["id"]}), "a book"
    )
    return author, kindred, dawn


@pytest.mark.grade(
    points=2,
    hint="POST /authors: author_schema.load(json_body()) refuses wrong types, blank or missing "
    "names, unknown and dump_only fields (id, book_count, books) with one message per field; "
    "the 201 answer is author_schema.dump(author), with book_count.",
)
def test_authors_collection_loads_and_dumps_through_the_schema(client, runner, database):
    log_in_as_librarian(client, runner)
    author = created(client.post("/authors", json={"name": "Ann Leckie", "bio": None}), "author")
    assert (author.get("book_count"), author.get("bio")) == (0, None), f"answered {author}"
    assert_methods_refused(client, "/authors", ["PUT", "DELETE"])
    assert_bodies_refused(
        client,
        "post",
        "/authors",
        [
            ({"bio": "no name"}, "name"),
            ({"name": 42}, "name"),
            ({"name": HUGE}, "name"),
            ({"name": "   "}, "name"),
            ({"name": None}, "name"),
            ({"name": "New Writer", "bio": ["x"]}, "bio"),
            ({"name": "New Writer", "id": author["id"]}, "id"),
            ({"name": "New Writer", "book_count": 3}, "book_count"),
            ({"name": "New Writer", "books": []}, "books"),
            ({"name": "New Writer", "nickname": "N"}, "nickname"),
        ],
    )
    rows = database.rows("SELECT id, name, bio FROM authors")
    assert rows == [{"id": author["id"], "name": "Ann Leckie", "bio": None}], rows


@pytest.mark.grade(
    points=2,
    hint="PATCH /authors/<id>: author_schema.load(json_body(), partial=True) changes only the "
    "fields sent; id, book_count and books are dump_only (422), so a body's id never picks "
    "another row; GET and PATCH answer author_schema.dump(author), books included.",
)
def test_author_item_loads_partially_and_dumps_through_the_schema(client, runner, database):
    author, kindred, dawn = shelve(client, runner)
    other = created(client.post("/authors", json={"name": "Other Writer"}), "an author")
    url = f"/authors/{author['id']}"
    changed = client.patch(url, json={"bio": "Wrote Kindred."})
    assert changed.status_code == 200, changed.text
    answer = changed.get_json()
    expected = ("Octavia E. Butler", "Wrote Kindred.")
    assert (answer.get("name"), answer.get("bio")) == expected, f"PATCH answered {answer}"
    assert answer.get("book_count") == 2, f"PATCH answered {answer}"
    assert [b.get("title") for b in answer.get("books", [])] == ["Kindred", "Dawn"], answer
    assert_methods_refused(client, url, ["PUT", "POST"])
    assert_problem(client.patch("/authors/987654", json={"bio": "x"}), 404, "PATCH a missing one")
    assert_bodies_refused(
        client,
        "patch",
        url,
        [
            ({"name": ""}, "name"),
            ({"name": HUGE}, "name"),
            ({"bio": {"text": "x"}}, "bio"),
            ({"id": other["id"], "name": "Hijacked"}, "id"),
            ({"book_count": 0}, "book_count"),
            ({"books": [{"id": kindred["id"]}]}, "books"),
            ({"born": 1947}, "born"),
        ],
    )
    rows = database.rows("SELECT id, name, bio FROM authors ORDER BY id")
    assert rows == [
        {"id": author["id"], "name": "Octavia E. Butler", "bio": "Wrote Kindred."},
        {"id": other["id"], "name": "Other Writer", "bio": None},
    ], f"refused requests changed the authors: {rows}"
    assert database.scalar("SELECT count(*) FROM books") == 2, dawn


@pytest.mark.grade(
    points=2,
    hint="POST /books: book_schema.load(json_body()) (author as a name through fields.Pluck, or "
    "author_id checked by @validates) refuses wrong types, huge numbers, unknown authors, "
    "unknown and dump_only fields; the 201 answer is book_schema.dump(book), reviews included.",
)
def test_books_collection_loads_and_dumps_through_the_schema(client, runner, database):
    author, kindred, _ = shelve(client, runner)
    book = created(
        client.post("/books", json=FLEDGLING),
        "a book",
    )
    assert book.get("reviews") == [], f"POST /books answers the book with reviews []: {book}"
    assert (book.get("author"), book.get("author_id")) == ("Octavia E. Butler", author["id"]), book
    assert_methods_refused(client, "/books", ["PUT", "DELETE"])
    assert_bodies_refused(
        client,
        "post",
        "/books",
        [
            ({"author": "Someone"}, "title"),
            ({"title": "T"}, "author"),
            ({"title": "", "author": "Someone"}, "title"),
            ({"title": 5, "author": "Someone"}, "title"),
            ({"title": "T", "author": ["Someone"]}, "author"),
            ({"title": "T", "author": {"name": "Someone", "id": author["id"]}}, "author"),
            ({"title": "T", "author": "Someone", "year": HUGE}, "year"),
            ({"title": "T", "author": "Someone", "year": "1999"}, "year"),
            ({"title": "T", "author_id": HUGE}, "author_id"),
            ({"title": "T", "author_id": 4242}, "author_id"),
            ({"title": "T", "author_id": True}, "author_id"),
            ({"title": "T", "author_id": author["id"], "id": kindred["id"]}, "id"),
            ({"title": "T", "author_id": author["id"], "reviews": []}, "reviews"),
            ({"title": "T", "author_id": author["id"], "pages": 300}, "pages"),
        ],
    )
    titles = [row["title"] for row in database.rows("SELECT title FROM books ORDER BY id")]
    assert titles == ["Kindred", "Dawn", "Fledgling"], f"refused requests stored books: {titles}"
    assert database.scalar("SELECT count(*) FROM authors") == 1, "a refused book made an author"


@pytest.mark.grade(
    points=2,
    hint="PATCH /books/<id>: book_schema.load(json_body(), partial=True) changes only the fields "
    "sent; id and reviews are dump_only (422), so a body's id never changes another book; GET "
    "and PATCH answer book_schema.dump(book) with its reviews.",
)
def test_book_item_loads_partially_and_dumps_through_the_schema(client, runner, database):
    _, kindred, dawn = shelve(client, runner)
    url = f"/books/{kindred['id']}"
    changed = client.patch(url, json={"year": 1979})
    assert changed.status_code == 200, changed.text
    answer = changed.get_json()
    assert (answer.get("title"), answer.get("year")) == ("Kindred", 1979), f"PATCH: {answer}"
    assert answer.get("reviews") == [], f"PATCH answers the book with its reviews: {answer}"
    assert_methods_refused(client, url, ["PUT", "POST"])
    assert_problem(client.patch("/books/987654", json={"year": 2000}), 404, "PATCH a missing one")
    assert_bodies_refused(
        client,
        "patch",
        url,
        [
            ({"title": "  "}, "title"),
            ({"title": None}, "title"),
            ({"year": 19.5}, "year"),
            ({"year": -HUGE}, "year"),
            ({"author_id": 987654}, "author_id"),
            ({"author": ""}, "author"),
            ({"id": dawn["id"], "title": "Hijacked"}, "id"),
            ({"reviews": [{"rating": 5}]}, "reviews"),
            ({"pages": 300}, "pages"),
        ],
    )
    rows = database.rows("SELECT id, title, year FROM books ORDER BY id")
    assert rows == [
        {"id": kindred["id"], "title": "Kindred", "year": 1979},
        {"id": dawn["id"], "title": "Dawn", "year": None},
    ], f"refused requests changed the books: {rows}"


@pytest.mark.grade(
    points=2,
    hint="POST /reviews: review_schema.load(json_body()) (book_id checked by @validates, rating "
    "a strict Integer from 1 to 5, body load_default '') refuses bad fields and dump_only ones; "
    "the 201 answer is review_schema.dump(review) with the nested book.",
)
def test_reviews_collection_loads_and_dumps_through_the_schema(client, runner, database):
    _, kindred, dawn = shelve(client, runner)
    sign_up_reader(client)
    review = created(
        client.post("/reviews", json={"book_id": kindred["id"], "rating": 4}), "a review"
    )
    assert review.get("body") == "", f"a review without a body has body '': {review}"
    assert (review.get("book") or {}).get("title") == "Kindred", f"nested book: {review}"
    assert_methods_refused(client, "/reviews", ["PUT", "DELETE"])
    good = {"book_id": dawn["id"]}
    assert_bodies_refused(
        client,
        "post",
        "/reviews",
        [
            ({}, "rating"),
            (good, "rating"),
            ({**good, "rating": 6}, "rating"),
            ({**good, "rating": "5"}, "rating"),
            ({**good, "rating": HUGE}, "rating"),
            ({**good, "rating": True}, "rating"),
            ({**good, "rating": 3, "body": 7}, "body"),
            ({**good, "rating": 3, "book_id": HUGE}, "book_id"),
            ({**good, "rating": 3, "book_id": 987654}, "book_id"),
            ({**good, "rating": 3, "id": review["id"]}, "id"),
            ({**good, "rating": 3, "book": {"id": dawn["id"]}}, "book"),
            ({**good, "rating": 3, "user_id": 1}, "user_id"),
            ({**good, "rating": 3, "stars": 5}, "stars"),
        ],
    )
    rows = database.rows("SELECT id, book_id, rating FROM reviews")
    assert rows == [{"id": review["id"], "book_id": kindred["id"], "rating": 4}], rows


@pytest.mark.grade(
    points=2,
    hint="PATCH /reviews/<id>: load with a schema of only rating and body, partial=True; every "
    "other field (id, book_id, book, username) is a 422; GET and PATCH answer "
    "review_schema.dump(review) with the nested book.",
)
def test_review_item_loads_partially_and_dumps_through_the_schema(client, runner, database):
    _, kindred, dawn = shelve(client, runner)
    sign_up_reader(client, "otto", "otto-reads-too")
    first = created(client.post("/reviews", json={"book_id": dawn["id"], "rating": 1}), "review")
    sign_up_reader(client)
    mine = created(
        client.post("/reviews", json={"book_id": kindred["id"], "rating": 5, "body": "Moving."}),
        "a review",
    )
    url = f"/reviews/{mine['id']}"
    changed = client.patch(url, json={"rating": 4})
    assert changed.status_code == 200, changed.text
    answer = changed.get_json()
    assert (answer.get("rating"), answer.get("body")) == (4, "Moving."), f"PATCH: {answer}"
    assert (answer.get("book") or {}).get("title") == "Kindred", f"nested book: {answer}"
    assert_methods_refused(client, url, ["PUT", "POST"])
    assert_problem(client.patch("/reviews/987654", json={"rating": 2}), 404, "a missing one")
    assert_bodies_refused(
        client,
        "patch",
        url,
        [
            ({"rating": 9}, "rating"),
            ({"rating": "4"}, "rating"),
            ({"rating": -HUGE}, "rating"),
            ({"body": 5}, "body"),
            ({"id": first["id"], "rating": 2}, "id"),
            ({"book_id": dawn["id"]}, "book_id"),
            ({"book": {"title": "Dawn"}}, "book"),
            ({"username": "mallory"}, "username"),
        ],
    )
    rows = database.rows("SELECT id, book_id, rating, body FROM reviews ORDER BY id")
    assert rows == [
        {"id": first["id"], "book_id": dawn["id"], "rating": 1, "body": ""},
        {"id": mine["id"], "book_id": kindred["id"], "rating": 4, "body": "Moving."},
    ], f"refused requests changed the reviews: {rows}"
