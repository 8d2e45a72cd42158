"""Visible tests of lab 09: links on every resource, action links per user, pages of a list."""

import pytest
from flask import url_for

PROBLEM = "application/problem+json"


def body(response):
    """The response body as text, for assertion messages."""
    return response.get_data(as_text=True)


def shelve_books(client, count, author="Many Hands"):
    """Create ``count`` books by one author (the test logs in a librarian first)."""
    ids = []
    for number in range(1, count + 1):
        response = client.post("/books", json={"title": f"Book {number}", "author": author})
        assert response.status_code == 201, body(response)
        ids.append(response.get_json()["id"])
    return ids


def page_links(response):
    """The Link header as {relation: url}."""
    found = {}
    for part in response.headers.get("Link", "").split(","):
        if part.strip():
            url, relation = part.split(";")
            found[relation.strip().removeprefix('rel="').removesuffix('"')] = url.strip()[1:-1]
    return found


@pytest.mark.grade(points=1, hint="GET / links to the collections in _links.")
def test_api_root_links_to_the_collections(client):
    links = client.get("/").get_json()["_links"]
    assert links["books"] == {"href": "/books"}, links
    assert links["login"] == {"href": "/auth/login", "method": "POST"}, links


@pytest.mark.grade(points=2, hint="book_links: self, collection, author and reviews.")
def test_book_carries_links_a_client_can_follow(client, auth):
    auth.create("libby", "librarian")
    auth.login("libby")
    (book_id,) = shelve_books(client, 1)
    auth.logout()
    links = client.get(f"/books/{book_id}").get_json()["_links"]
    assert links["self"] == {"href": f"/books/{book_id}"}, links
    assert links["reviews"] == {"href": f"/reviews?book_id={book_id}"}, links
    for relation in ("self", "collection", "author", "reviews"):
        response = client.get(links[relation]["href"])
        assert response.status_code == 200, (relation, body(response))


@pytest.mark.grade(points=2, hint="edit and delete links only for a librarian (may).")
def test_edit_links_only_for_a_librarian(client, auth):
    auth.create("libby", "librarian")
    auth.create("rita")
    auth.login("libby")
    (book_id,) = shelve_books(client, 1)
    links = client.get(f"/books/{book_id}").get_json()["_links"]
    assert links["edit"] == {"href": f"/books/{book_id}", "method": "PATCH"}, links
    auth.login("rita")
    links = client.get(f"/books/{book_id}").get_json()["_links"]
    assert "edit" not in links and "delete" not in links, links
    assert links["create-review"] == {"href": "/reviews", "method": "POST"}, links


@pytest.mark.grade(points=2, hint="Only the writer of a review sees its edit link.")
def test_only_the_writer_sees_the_edit_link_of_a_review(client, auth):
    auth.create("libby", "librarian")
    auth.create("rita")
    auth.create("otto")
    auth.login("libby")
    (book_id,) = shelve_books(client, 1)
    auth.login("rita")
    review = client.post("/reviews", json={"book_id": book_id, "rating": 4}).get_json()
    assert "edit" in review["_links"], review
    auth.login("otto")
    links = client.get(f"/reviews/{review['id']}").get_json()["_links"]
    assert "edit" not in links and "delete" not in links, links


@pytest.mark.grade(points=2, hint="page_links: first and next on page 1, no prev.")
def test_pages_link_to_each_other(client, auth):
    auth.create("libby", "librarian")
    auth.login("libby")
    ids = shelve_books(client, 5)
    response = client.get("/books?per_page=2")
    assert [book["id"] for book in response.get_json()] == ids[:2], body(response)
    assert response.headers["X-Total-Count"] == "5"
    links = page_links(response)
    assert links == {
        "first": "/books?page=1&per_page=2",
        "next": "/books?page=2&per_page=2",
        "last": "/books?page=3&per_page=2",
    }, links
    last = client.get(links["last"])
    assert [book["id"] for book in last.get_json()] == ids[4:], body(last)
    assert "next" not in page_links(last) and "prev" in page_links(last), last.headers["Link"]


@pytest.mark.grade(points=1, hint="max_per_page=MAX_PER_PAGE caps ?per_page=.")
def test_page_size_is_capped(client, auth):
    auth.create("libby", "librarian")
    auth.login("libby")
    shelve_books(client, 101)
    response = client.get("/books?per_page=500")
    assert len(response.get_json()) == 100, len(response.get_json())
    assert "per_page=100" in page_links(response)["next"], response.headers["Link"]


@pytest.mark.grade(points=1, hint="page_request: ?page= must be a whole number from 1 (400).")
@pytest.mark.parametrize("query", ["page=0", "page=abc", "per_page=-1", "page=1e3"])
def test_bad_page_arguments_are_a_400_problem(client, query):
    response = client.get(f"/books?{query}")
    assert response.status_code == 400, body(response)
    assert response.mimetype == PROBLEM, body(response)


@pytest.mark.grade(points=1, hint="paginated: a page after the last one is a 404 problem.")
def test_a_page_after_the_last_is_a_404(client):
    assert client.get("/books?page=1").status_code == 200
    response = client.get("/books?page=2")
    assert response.status_code == 404, body(response)
    assert response.mimetype == PROBLEM, body(response)


@pytest.mark.grade(points=1, hint="link: build every href with url_for (it knows the root).")
@pytest.mark.login_disabled
@pytest.mark.parametrize("script_root", ["", "/shelf", "/v1234567890"])
def test_hrefs_of_a_page_are_those_url_for_gives(app, client, script_root):
    """A page of books mounted under a script root (as a proxy may mount the API): every href,
    including the ones a page repeats for each book, is url_for's, under that root."""
    shelve_books(client, 3)
    shelve_books(client, 2, author="Second Hand")
    base_url = f"http://localhost{script_root}/"
    response = client.get("/books?per_page=4", base_url=base_url)
    assert response.status_code == 200, body(response)
    with app.test_request_context("/books", base_url=base_url):
        for book in response.get_json():
            assert book["_links"] == {
                "self": {"href": url_for("book", book_id=book["id"])},
                "collection": {"href": url_for("books")},
                "author": {"href": url_for("author", author_id=book["author_id"])},
                "reviews": {"href": url_for("reviews", book_id=book["id"])},
                "edit": {"href": url_for("book", book_id=book["id"]), "method": "PATCH"},
                "delete": {"href": url_for("book", book_id=book["id"]), "method": "DELETE"},
                "create-review": {"href": url_for("reviews"), "method": "POST"},
            }, book
        assert book["_links"]["self"]["href"] == f"{script_root}/books/{book['id']}", book
        assert page_links(response)["next"] == url_for("books", page=2, per_page=4)
