"""Hidden graders of lab 09: the API root and the ``_links`` of every kind of resource.

Every resource carries ``_links``, a map from a relation to ``{"href": ...}``; a link without a
``"method"`` is one a client reads with GET, and it must lead somewhere (200).
"""

import pytest

pytestmark = pytest.mark.app_config(PASSWORD_HASH_METHOD="pbkdf2:sha256:1000")

PASSWORDS = {"libby": "libby-shelves-books", "rita": "rita-reads-a-lot"}


def body(response):
    """The response body as text, for assertion messages."""
    return response.text


def create_user(runner, name, role):
    """Create an account with the CLI: `flask create-user NAME --role ROLE`."""
    password = PASSWORDS[name]
    result = runner.invoke(
        args=["create-user", name, "--role", role], input=f"{password}\n{password}\n"
    )
    assert result.exit_code == 0, f"flask create-user {name} --role {role}: {result.output}"


def log_in_as(client, name):
    """End any session, then log in as ``name`` (None: stay anonymous)."""
    client.post("/auth/logout")
    if name is not None:
        response = client.post("/auth/login", json={"username": name, "password": PASSWORDS[name]})
        assert response.status_code == 200, f"login of {name}: {body(response)}"


def created(response, what):
    """The JSON of a row a setup request created."""
    assert response.status_code == 201, f"creating {what}: {body(response)}"
    return response.get_json()


def shelve(client, runner):
    """libby (librarian) shelves one book by one author; rita (reader) reviews it."""
    create_user(runner, "libby", "librarian")
    create_user(runner, "rita", "reader")
    log_in_as(client, "libby")
    author = created(client.post("/authors", json={"name": "Octavia E. Butler"}), "an author")
    book = created(
        client.post("/books", json={"title": "Kindred", "author_id": author["id"], "year": 1979}),
        "a book",
    )
    log_in_as(client, "rita")
    review = created(
        client.post("/reviews", json={"book_id": book["id"], "rating": 5, "body": "Gripping."}),
        "a review",
    )
    return {"author": author["id"], "book": book["id"], "review": review["id"]}


def shelve_another_reviewed_book(client, ids):
    """libby shelves a second book by the same author and rita reviews it too: a link that
    should list one book's reviews must not list both."""
    log_in_as(client, "libby")
    book = created(
        client.post("/books", json={"title": "Dawn", "author_id": ids["author"], "year": 1987}),
        "a second book",
    )
    log_in_as(client, "rita")
    created(client.post("/reviews", json={"book_id": book["id"], "rating": 4}), "a second review")


def links_of(data, where):
    """The ``_links`` map of a resource, checked to be a map of link objects."""
    assert isinstance(data, dict), f"{where}: expected a JSON object, got {data!r}"
    links = data.get("_links")
    assert isinstance(links, dict) and links, f"{where}: no _links map in {data!r}"
    for relation, found in links.items():
        assert isinstance(found, dict) and isinstance(found.get("href"), str), (
            f"{where}: _links[{relation!r}] must be an object with an href, got {found!r}"
        )
    return links


def href(links, relation, where):
    """The href of ``relation``, which must be there."""
    assert relation in links, f"{where}: no {relation!r} link in {links!r}"
    return links[relation]["href"]


def path_of(url):
    """The path and query of an href, whether it is a path or a full URL."""
    for prefix in ("http://localhost", "https://localhost"):
        if url.startswith(prefix):
            return url[len(prefix) :]
    return url


def follow_readable_links(client, links, where):
    """GET every link without a method; each must answer 200."""
    for relation, found in links.items():
        if "method" in found and found["method"].upper() != "GET":
            continue
        response = client.get(path_of(found["href"]))
        assert response.status_code == 200, (
            f"{where}: following _links[{relation!r}] = {found['href']} answered "
            f"{response.status_code}: {body(response)}"
        )


@pytest.mark.grade(
    points=2,
    hint='GET / adds _links: self, authors, books and reviews, each {"href": url_for(...)}.',
)
def test_api_root_links_to_the_collections(client):
    response = client.get("/")
    assert response.status_code == 200, body(response)
    links = links_of(response.get_json(), "GET /")
    expected = {"self": "/", "authors": "/authors", "books": "/books", "reviews": "/reviews"}
    for relation, path in expected.items():
        assert path_of(href(links, relation, "GET /")) == path, (relation, links)
    follow_readable_links(client, links, "GET /")


@pytest.mark.grade(
    points=2,
    hint="The root offers signup and login (method POST) to nobody, me and logout to a "
    "logged-in user, and create-book (POST /books) to a librarian.",
)
def test_api_root_offers_what_the_current_user_can_do(client, runner):
    links = links_of(client.get("/").get_json(), "GET / as nobody")
    for relation in ("signup", "login"):
        assert links.get(relation, {}).get("method", "").upper() == "POST", (relation, links)
    assert "logout" not in links and "create-book" not in links, links
    create_user(runner, "libby", "librarian")
    log_in_as(client, "libby")
    links = links_of(client.get("/").get_json(), "GET / as a librarian")
    assert path_of(href(links, "me", "GET / as a librarian")) == "/auth/me", links
    assert links.get("logout", {}).get("method", "").upper() == "POST", links
    book_action = links.get("create-book", {})
    assert path_of(book_action.get("href", "")) == "/books", links
    assert book_action.get("method", "").upper() == "POST", links
    assert "login" not in links, links
    follow_readable_links(client, links, "GET / as a librarian")


@pytest.mark.grade(
    points=3,
    hint="book_links: self (/books/<id>), collection (/books), author (/authors/<author_id>) "
    "and reviews (/reviews?book_id=<id>: that book's reviews only).",
)
def test_book_links_to_itself_its_collection_its_author_and_its_reviews(client, runner):
    ids = shelve(client, runner)
    shelve_another_reviewed_book(client, ids)
    log_in_as(client, None)
    response = client.get(f"/books/{ids['book']}")
    assert response.status_code == 200, body(response)
    where = f"GET /books/{ids['book']}"
    links = links_of(response.get_json(), where)
    assert path_of(href(links, "self", where)) == f"/books/{ids['book']}", links
    assert path_of(href(links, "collection", where)) == "/books", links
    assert path_of(href(links, "author", where)) == f"/authors/{ids['author']}", links
    reviews = client.get(path_of(href(links, "reviews", where)))
    assert [review["id"] for review in reviews.get_json()] == [ids["review"]], body(reviews)
    follow_readable_links(client, links, where)


@pytest.mark.grade(
    points=2,
    hint="author_links: self, collection (/authors) and books (/books?author_id=<id>), which "
    "lists only that author's books.",
)
def test_author_links_to_itself_and_to_their_books(client, runner):
    ids = shelve(client, runner)
    log_in_as(client, "libby")
    other = created(client.post("/authors", json={"name": "N. K. Jemisin"}), "an author")
    created(
        client.post("/books", json={"title": "The Fifth Season", "author_id": other["id"]}),
        "a book",
    )
    log_in_as(client, None)
    where = f"GET /authors/{ids['author']}"
    links = links_of(client.get(f"/authors/{ids['author']}").get_json(), where)
    assert path_of(href(links, "self", where)) == f"/authors/{ids['author']}", links
    assert path_of(href(links, "collection", where)) == "/authors", links
    books = client.get(path_of(href(links, "books", where)))
    assert books.status_code == 200, body(books)
    assert [book["title"] for book in books.get_json()] == ["Kindred"], body(books)
    follow_readable_links(client, links, where)


@pytest.mark.grade(
    points=2,
    hint="review_links: self, collection (/reviews), book (/books/<book_id>) and reviews "
    "(/reviews?book_id=<book_id>: the reviews of the same book only).",
)
def test_review_links_to_itself_and_its_book(client, runner):
    ids = shelve(client, runner)
    shelve_another_reviewed_book(client, ids)
    log_in_as(client, None)
    where = f"GET /reviews/{ids['review']}"
    links = links_of(client.get(f"/reviews/{ids['review']}").get_json(), where)
    assert path_of(href(links, "self", where)) == f"/reviews/{ids['review']}", links
    assert path_of(href(links, "collection", where)) == "/reviews", links
    assert path_of(href(links, "book", where)) == f"/books/{ids['book']}", links
    same_book = client.get(path_of(href(links, "reviews", where)))
    assert [review["id"] for review in same_book.get_json()] == [ids["review"]], body(same_book)
    follow_readable_links(client, links, where)


@pytest.mark.grade(
    points=2,
    hint="Every item of a list carries its own _links too: build a list with "
    "resources(schema, rows, book_links) (or author_links, review_links), not the bare dump.",
)
def test_every_item_of_a_collection_carries_its_links(client, runner):
    ids = shelve(client, runner)
    for url, key in (("/books", "book"), ("/authors", "author"), ("/reviews", "review")):
        response = client.get(url)
        assert response.status_code == 200, body(response)
        items = response.get_json()
        assert isinstance(items, list) and len(items) == 1, body(response)
        links = links_of(items[0], f"GET {url}")
        assert path_of(href(links, "self", f"GET {url}")) == f"{url}/{ids[key]}", links


@pytest.mark.grade(
    points=2,
    hint="A user (GET /auth/me, /users/<id>) links to itself: self is /users/<id>.",
)
def test_user_links_to_itself(client, runner):
    create_user(runner, "rita", "reader")
    log_in_as(client, "rita")
    me = client.get("/auth/me")
    assert me.status_code == 200, body(me)
    links = links_of(me.get_json(), "GET /auth/me")
    assert path_of(href(links, "self", "GET /auth/me")) == f"/users/{me.get_json()['id']}", links
    follow_readable_links(client, links, "GET /auth/me")


@pytest.mark.grade(
    points=2,
    hint="POST answers 201 with Location equal to the new resource's self link, and the body "
    "is the resource with its _links.",
)
def test_create_answers_location_equal_to_the_self_link(client, runner):
    create_user(runner, "libby", "librarian")
    log_in_as(client, "libby")
    response = client.post("/authors", json={"name": "Ursula K. Le Guin"})
    assert response.status_code == 201, body(response)
    links = links_of(response.get_json(), "POST /authors")
    assert response.location, f"POST /authors: no Location header: {body(response)}"
    assert path_of(response.location) == path_of(href(links, "self", "POST /authors")), (
        response.location,
        links,
    )
    fetched = client.get(path_of(response.location))
    assert fetched.status_code == 200, body(fetched)
    book = client.post(
        "/books", json={"title": "The Dispossessed", "author_id": response.get_json()["id"]}
    )
    assert book.status_code == 201, body(book)
    book_links = links_of(book.get_json(), "POST /books")
    assert path_of(book.location) == path_of(href(book_links, "self", "POST /books")), body(book)
