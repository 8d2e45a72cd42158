"""Hidden graders of lab 04: each resource serves lab 03's whole contract, in production.

The resources replace lab 03's views, so every answer a client relied on must come back the
same from them: the status codes, the Location of a new row, the JSON of a row and of a list,
the filters, and an empty 204. The app runs with ``TESTING=False``, as in production. Lab 04
also refuses fields a resource does not know (a typo such as ``"titel"`` is a 422 naming it), so
each test ends with one such body.
"""

import pytest

PRODUCTION = pytest.mark.app_config(TESTING=False)


def ok(response, status, label):
    """The JSON of a response with ``status``; fails with the body otherwise."""
    shown = f"{label}: expected {status}, answered {response.status_code} {response.text[:300]}"
    assert response.status_code == status, shown
    return response.get_json()


def path_of(location):
    """The path of a Location header, which may be a full URL or a path."""
    return "/" + location.split("://", 1)[-1].split("/", 1)[-1] if "://" in location else location


def created(client, url, body, kind):
    """POST ``body`` to ``url``: 201, JSON, and a Location that GETs the same row back."""
    response = client.post(url, json=body)
    row = ok(response, 201, f"POST {url} {body!r}")
    assert response.mimetype == "application/json", f"POST {url}: {response.mimetype}"
    location = path_of(response.headers.get("Location", ""))
    assert location == f"/{kind}/{row['id']}", f"POST {url}: Location {location!r}, row {row}"
    fetched = ok(client.get(location), 200, f"GET {location} (the Location of a new row)")
    assert fetched["id"] == row["id"], f"GET {location} answered another row: {fetched}"
    return row


def deleted(client, url):
    """DELETE ``url``: 204 with no body, after which the row is a 404."""
    response = client.delete(url)
    assert response.status_code == 204, f"DELETE {url}: {response.status_code} {response.text}"
    assert response.data == b"", f"DELETE {url}: a 204 has no body, got {response.data[:200]!r}"
    gone = client.get(url)
    assert gone.status_code == 404, f"GET {url} after DELETE: {gone.status_code} {gone.text}"


def refuses_unknown_field(client, method, url, body, field):
    """``body`` holds ``field``, which the resource does not know: a 422 naming it."""
    response = client.open(url, method=method, json=body)
    problem = ok(response, 422, f"{method} {url} with the unknown field {field!r}")
    assert field in (problem.get("errors") or {}), f"{method} {url}: 422 without {field}: {problem}"


def pick(row, *names):
    """The fields ``names`` of a JSON row (later labs add fields; these must stay)."""
    return {name: row.get(name) for name in names}


@PRODUCTION
@pytest.mark.grade(
    points=3,
    hint="AuthorList/AuthorItem: POST 201 + Location (endpoint 'author'), GET sorted by name and "
    "one author with 'books', PATCH changes only the given fields, DELETE 204 with no body.",
)
def test_author_resources_serve_the_lab_03_contract(client, database):
    ursula = created(
        client, "/authors", {"name": "Ursula K. Le Guin", "bio": "Earthsea"}, "authors"
    )
    assert pick(ursula, "name", "bio") == {"name": "Ursula K. Le Guin", "bio": "Earthsea"}, ursula
    becky = created(client, "/authors", {"name": "Becky Chambers"}, "authors")
    assert becky.get("bio") is None, becky
    listed = ok(client.get("/authors"), 200, "GET /authors")
    assert [a["name"] for a in listed] == ["Becky Chambers", "Ursula K. Le Guin"], listed
    assert pick(listed[1], "id", "bio") == {"id": ursula["id"], "bio": "Earthsea"}, listed
    url = f"/authors/{ursula['id']}"
    assert ok(client.get(url), 200, f"GET {url}")["books"] == [], "a new author has no books"
    ok(client.post("/books", json={"title": "Tehanu", "author_id": ursula["id"]}), 201, "book")
    one = ok(client.get(url), 200, f"GET {url}")
    assert [b["title"] for b in one["books"]] == ["Tehanu"], f"GET {url}: {one}"
    changed = ok(client.patch(url, json={"bio": "Earthsea and Hainish"}), 200, f"PATCH {url}")
    assert pick(changed, "name", "bio") == {
        "name": "Ursula K. Le Guin",
        "bio": "Earthsea and Hainish",
    }, changed
    same_name = client.patch(url, json={"name": "Ursula K. Le Guin"})
    ok(same_name, 200, f"PATCH {url} with the author's own name (not a clash)")
    renamed = ok(client.patch(url, json={"name": "U. K. Le Guin"}), 200, f"PATCH {url} name")
    assert renamed["name"] == "U. K. Le Guin", renamed
    row = database.one("SELECT name, bio FROM authors WHERE id = ?", (ursula["id"],))
    assert row == {"name": "U. K. Le Guin", "bio": "Earthsea and Hainish"}, row
    deleted(client, f"/authors/{becky['id']}")
    assert database.scalar("SELECT count(*) FROM authors") == 1, "DELETE left the author stored"
    refuses_unknown_field(client, "POST", "/authors", {"name": "New", "nickname": "N"}, "nickname")
    refuses_unknown_field(client, "PATCH", url, {"bio": "x", "born": 1929}, "born")


@PRODUCTION
@pytest.mark.grade(
    points=3,
    hint="BookList/BookItem: POST 201 + Location (endpoint 'book') with 'author' or 'author_id', "
    "GET with ?q= and ?limit=, PATCH title/year/author, DELETE 204 (reviews go too).",
)
def test_book_resources_serve_the_lab_03_contract(client, database):
    kindred = created(
        client, "/books", {"title": "Kindred", "author": "Octavia E. Butler", "year": 1979}, "books"
    )
    assert pick(kindred, "title", "author", "year") == {
        "title": "Kindred",
        "author": "Octavia E. Butler",
        "year": 1979,
    }, kindred
    butler = kindred["author_id"]
    dawn = created(client, "/books", {"title": "Dawn", "author": "Octavia E. Butler"}, "books")
    assert dawn["author_id"] == butler, f"the same author name is the same author: {dawn}"
    seed = created(client, "/books", {"title": "Wild Seed", "author_id": butler}, "books")
    assert pick(seed, "author", "author_id", "year") == {
        "author": "Octavia E. Butler",
        "author_id": butler,
        "year": None,
    }, seed
    no_author = ok(client.post("/books", json={"title": "Nobody's"}), 422, "POST without author")
    assert "author" in (no_author.get("errors") or {}), no_author
    listed = ok(client.get("/books"), 200, "GET /books")
    assert [b["title"] for b in listed] == ["Kindred", "Dawn", "Wild Seed"], listed
    found = ok(client.get("/books", query_string={"q": " Seed "}), 200, "GET /books?q= Seed ")
    assert [b["title"] for b in found] == ["Wild Seed"], found
    first = ok(client.get("/books", query_string={"limit": 2}), 200, "GET /books?limit=2")
    assert [b["title"] for b in first] == ["Kindred", "Dawn"], first
    url = f"/books/{kindred['id']}"
    assert ok(client.get(url), 200, f"GET {url}")["title"] == "Kindred"
    changed = ok(client.patch(url, json={"title": "Kindred (1979)"}), 200, f"PATCH {url}")
    assert pick(changed, "title", "year", "author_id") == {
        "title": "Kindred (1979)",
        "year": 1979,
        "author_id": butler,
    }, changed
    moved = ok(client.patch(url, json={"author": "Someone Else", "year": 1980}), 200, "PATCH")
    assert moved["author"] == "Someone Else" and moved["author_id"] != butler, moved
    back = ok(client.patch(url, json={"author_id": butler}), 200, f"PATCH {url} author_id")
    assert pick(back, "author_id", "year") == {"author_id": butler, "year": 1980}, back
    row = database.one("SELECT title, year, author_id FROM books WHERE id = ?", (kindred["id"],))
    assert row == {"title": "Kindred (1979)", "year": 1980, "author_id": butler}, row
    review = {"book_id": dawn["id"], "username": "ada", "rating": 4}
    ok(client.post("/reviews", json=review), 201, "POST /reviews")
    deleted(client, f"/books/{dawn['id']}")
    assert database.scalar("SELECT count(*) FROM reviews") == 0, "a deleted book's reviews stay"
    refuses_unknown_field(
        client, "POST", "/books", {"title": "T", "author": "A", "pages": 3}, "pages"
    )
    refuses_unknown_field(client, "PATCH", url, {"title": "T", "subtitle": "S"}, "subtitle")


@PRODUCTION
@pytest.mark.grade(
    points=3,
    hint="ReviewList/ReviewItem: POST 201 + Location (endpoint 'review'), a known username is the "
    'same user, GET filters by ?book_id=, PATCH rating/body (null body is ""), DELETE 204.',
)
def test_review_resources_serve_the_lab_03_contract(client, database):
    book = ok(client.post("/books", json={"title": "Piranesi", "author": "S. Clarke"}), 201, "book")
    other = ok(client.post("/books", json={"title": "Jonathan", "author": "S. Clarke"}), 201, "b")
    body = {"book_id": book["id"], "username": "ada", "rating": 5, "body": "Luminous."}
    first = created(client, "/reviews", body, "reviews")
    assert pick(first, "book_id", "username", "rating", "body") == {
        "book_id": book["id"],
        "username": "ada",
        "rating": 5,
        "body": "Luminous.",
    }, first
    second = created(
        client, "/reviews", {"book_id": other["id"], "username": "ada", "rating": 3}, "reviews"
    )
    assert second.get("body") == "", f"a review without a body has body '': {second}"
    assert database.scalar("SELECT count(*) FROM users") == 1, "a known username made a new user"
    third = created(
        client, "/reviews", {"book_id": book["id"], "username": "bo", "rating": 2}, "reviews"
    )
    listed = ok(client.get("/reviews"), 200, "GET /reviews")
    assert [r["id"] for r in listed] == [first["id"], second["id"], third["id"]], listed
    of_book = ok(client.get("/reviews", query_string={"book_id": book["id"]}), 200, "?book_id=")
    assert [r["id"] for r in of_book] == [first["id"], third["id"]], of_book
    unknown = ok(client.get("/reviews", query_string={"book_id": 98765}), 200, "?book_id=98765")
    assert unknown == [], f"an unknown book has no reviews: {unknown}"
    url = f"/reviews/{first['id']}"
    assert ok(client.get(url), 200, f"GET {url}")["body"] == "Luminous."
    rated = ok(client.patch(url, json={"rating": 2}), 200, f"PATCH {url} rating")
    assert pick(rated, "rating", "body") == {"rating": 2, "body": "Luminous."}, rated
    emptied = ok(client.patch(url, json={"body": None}), 200, f"PATCH {url} body null")
    assert pick(emptied, "rating", "body") == {"rating": 2, "body": ""}, emptied
    row = database.one("SELECT rating, body FROM reviews WHERE id = ?", (first["id"],))
    assert row == {"rating": 2, "body": ""}, row
    deleted(client, f"/reviews/{third['id']}")
    assert database.scalar("SELECT count(*) FROM reviews") == 2, "DELETE left the review stored"
    for missing in ("book_id", "username", "rating"):
        incomplete = {name: value for name, value in body.items() if name != missing}
        problem = ok(client.post("/reviews", json=incomplete), 422, f"POST without {missing}")
        assert missing in (problem.get("errors") or {}), f"422 without {missing}: {problem}"
    refuses_unknown_field(client, "PATCH", url, {"rating": 3, "stars": 3}, "stars")
    refuses_unknown_field(client, "POST", "/reviews", {**body, "username": "cy", "mood": 1}, "mood")


# The endpoint names the API root lists; url_for() finds each resource by them. The lab's
# resource modules import Flask's url_for, so the grader asks the app through it.
ENDPOINTS = [
    ("index", {}, "/"),
    ("authors", {}, "/authors"),
    ("author", {"author_id": 7}, "/authors/7"),
    ("books", {}, "/books"),
    ("book", {"book_id": 7}, "/books/7"),
    ("reviews", {}, "/reviews"),
    ("review", {"review_id": 7}, "/reviews/7"),
]


@pytest.mark.app_config(SERVER_NAME="bookshelf.test")  # url_for outside a request needs it
@pytest.mark.grade(
    points=2,
    hint="Register each resource with the endpoint name the API root lists: "
    'api.add_resource(AuthorList, "/authors", endpoint="authors"), "author", "books", "book", '
    '"reviews", "review".',
)
def test_resources_answer_to_the_endpoint_names_of_the_api_root(call, student_error):
    wrong = []
    for endpoint, values, path in ENDPOINTS:
        try:
            url = call("authors.url_for", endpoint, **values)
        except student_error as error:
            wrong.append(f"url_for({endpoint!r}) fails: {error.message[:120]}")
            continue
        if path_of(url) != path:
            wrong.append(f"url_for({endpoint!r}) is {url!r}, expected {path!r}")
    assert not wrong, "\n".join(wrong)
