"""Tests of the page cache (bookshelf/page_cache.py): kept pages are never stale.

Each test compares the caching app with a second app on the same SQLite file that caches
nothing: after any write, through any endpoint or command, both must answer the same page.
"""

import contextlib

import pytest
from bookshelf import create_app, crud
from bookshelf.db import db
from bookshelf.models import Book, Review
from bookshelf.page_cache import PageCache, current_version
from sqlalchemy import Engine, delete, event, update


def body(response):
    """The response body as text, for assertion messages."""
    return response.get_data(as_text=True)


def app_on(app, **config):
    """Another app on ``app``'s database file, as a second gunicorn worker would be."""
    settings = {
        name: app.config[name]
        for name in (
            "TESTING",
            "SECRET_KEY",
            "SQLALCHEMY_DATABASE_URI",
            "PASSWORD_HASH_METHOD",
            "LOGIN_DISABLED",
        )
    }
    return create_app({**settings, **config})


@contextlib.contextmanager
def counted_statements():
    """Collect the SQL statements every engine sends while the block runs (yields the list)."""
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", count)


def version_of(app):
    """The data version in ``app``'s database."""
    with app.app_context():
        return current_version()


def log_in(client, name):
    """Log ``client`` in as ``name`` (password "<name>-password")."""
    client.post("/auth/logout")
    response = client.post(
        "/auth/login", json={"username": name, "password": f"{name}-password"}
    )
    assert response.status_code == 200, body(response)


@pytest.fixture
def library(app, runner, auth):
    """The sample library, an admin "boss" with a review, and an author without books."""
    assert runner.invoke(args=["seed"]).exit_code == 0
    auth.create("boss", "admin")
    with app.app_context():
        boss = crud.find_user("boss")
        review = crud.add_review(boss, crud.get_book(1), 3, "Fine.")
        lonely = crud.create_author("Lonely Author")
        ada = crud.find_user("ada")
        return {"boss_review": review.id, "lonely": lonely.id, "ada": ada.id}


@pytest.fixture
def truth(app):
    """A client of an app on the same database that caches nothing: what is true right now."""
    return app_on(app, PAGE_CACHE_SIZE=0).test_client()


def test_a_repeated_list_is_sent_again_without_building_it(app, client, library):
    first = client.get("/books?page=1&per_page=2")
    assert first.status_code == 200, body(first)
    with counted_statements() as statements:
        again = client.get("/books?page=1&per_page=2")
    # No count and no page of rows: only the version, read on a plain cursor, which SQLAlchemy
    # does not see.
    assert statements == [], statements
    assert again.get_data() == first.get_data()
    # Every header, so one the app adds later cannot be lost by a kept page.
    assert sorted(again.headers.items()) == sorted(first.headers.items())


def test_a_logged_in_caller_gets_their_kept_page_too(app, client, library):
    log_in(client, "boss")
    first = client.get("/reviews")
    assert first.status_code == 200, body(first)
    with counted_statements() as statements:
        again = client.get("/reviews")
    # Loading the caller from the session is all the database work left.
    assert len(statements) == 1 and "FROM users" in statements[0], statements
    assert again.get_data() == first.get_data()
    for header in ("Content-Type", "Link", "X-Total-Count", "Vary"):
        assert again.headers.get(header) == first.headers.get(header), header


@pytest.mark.parametrize(
    "requests",
    [
        [("/books?page=1&per_page=2", "/"), ("/books?page=2&per_page=2", "/")],
        [("/books?per_page=2", "/"), ("/books?per_page=2", "/shelf")],
        [("/reviews", "/"), ("/reviews?book_id=3", "/")],
    ],
    ids=["query string", "script root", "filter"],
)
def test_a_different_url_or_root_gets_its_own_page(client, truth, library, requests):
    for path, root in requests * 2:
        base_url = f"http://localhost{root}"
        cached, fresh = client.get(path, base_url=base_url), truth.get(path, base_url=base_url)
        assert cached.get_data() == fresh.get_data(), body(cached)
        assert cached.headers.get("Link") == fresh.headers.get("Link")


def test_page_cache_size_zero_turns_caching_off(app, library):
    uncached = app_on(app, PAGE_CACHE_SIZE=0)
    client = uncached.test_client()
    client.get("/books")
    with counted_statements() as statements:
        client.get("/books")
    assert not any("data_version" in statement for statement in statements), statements
    assert len(statements) >= 2, statements


# Each write, as (description, list URL whose page it changes, request method, URL, JSON body).
# "{name}" in a URL is filled from the library fixture.
WRITES = [
    ("create a book", "/books", "POST", "/books", {"title": "New Book", "author_id": 1}),
    ("rename a book", "/books", "PATCH", "/books/1", {"title": "Renamed"}),
    ("delete a book", "/books", "DELETE", "/books/1", None),
    ("delete a book, its reviews go", "/reviews", "DELETE", "/books/3", None),
    ("create an author", "/authors", "POST", "/authors", {"name": "New Author"}),
    ("change an author", "/authors", "PATCH", "/authors/1", {"bio": "Changed."}),
    ("delete an author", "/authors", "DELETE", "/authors/{lonely}", None),
    ("a book changes its author's list", "/books/author/Susanna%20Clarke", "POST", "/books",
     {"title": "The Ladies of Grace Adieu", "author_id": 3}),
    ("create a review", "/reviews", "POST", "/reviews", {"book_id": 2, "rating": 5}),
    ("change a review", "/reviews", "PATCH", "/reviews/{boss_review}", {"rating": 1}),
    ("delete a review", "/reviews", "DELETE", "/reviews/{boss_review}", None),
    ("delete a user, their reviews go", "/reviews", "DELETE", "/users/{ada}", None),
]


@pytest.mark.parametrize(
    ("list_url", "method", "url", "json"),
    [write[1:] for write in WRITES],
    ids=[write[0] for write in WRITES],
)
def test_a_write_through_the_api_is_seen_in_the_next_list(
    app, client, truth, library, list_url, method, url, json
):
    # The boss, and nobody logged in (whose pages are sent before Flask builds a request).
    anonymous, anonymous_truth = app.test_client(), app_on(app, PAGE_CACHE_SIZE=0).test_client()
    log_in(client, "boss")
    log_in(truth, "boss")
    before = {each: each.get(list_url) for each in (client, anonymous)}
    for each, answer in before.items():
        assert each.get(list_url).get_data() == answer.get_data()  # now a kept page
    version = version_of(app)
    answer = client.open(url.format(**library), method=method, json=json)
    assert answer.status_code in (200, 201, 204), body(answer)
    assert version_of(app) > version
    for each, fresh in ((client, truth), (anonymous, anonymous_truth)):
        after = each.get(list_url)
        assert after.get_data() != before[each].get_data(), f"{list_url} unchanged: {body(after)}"
        assert after.get_data() == fresh.get(list_url).get_data(), body(after)


def test_signup_and_role_changes_bump_the_version(app, client, library):
    version = version_of(app)
    newcomer = app.test_client()
    signup = {"username": "newcomer", "password": "pw-12345678"}
    response = newcomer.post("/auth/signup", json=signup)
    assert response.status_code == 201, body(response)
    assert version_of(app) > version
    version = version_of(app)
    log_in(client, "boss")
    response = client.patch(f"/users/{library['ada']}", json={"role": "librarian"})
    assert response.status_code == 200, body(response)
    assert version_of(app) > version


def test_cli_commands_bump_the_version(app, runner):
    version = version_of(app)
    assert runner.invoke(args=["seed"]).exit_code == 0
    seeded = version_of(app)
    assert seeded > version
    result = runner.invoke(args=["create-user", "carol", "--password", "pw-12345678"])
    assert result.exit_code == 0, result.output
    assert version_of(app) > seeded


def test_bulk_statements_bump_the_version(app, library):
    version = version_of(app)
    with app.app_context():
        db.session.execute(update(Book).where(Book.id == 1).values(year=2001))
        db.session.commit()
    bulk_update = version_of(app)
    assert bulk_update > version
    with app.app_context():
        db.session.execute(delete(Review).where(Review.book_id == 1))
        db.session.commit()
    assert version_of(app) > bulk_update


def test_a_refused_write_does_not_bump_the_version(app, client, library):
    log_in(client, "boss")
    client.get("/books")
    version = version_of(app)
    response = client.post("/authors", json={"name": "Octavia E. Butler"})
    assert response.status_code == 409, body(response)
    assert version_of(app) == version
    response = client.post("/books", json={"title": "Dup", "author_id": 1, "isbn": "0441013597"})
    assert response.status_code == 201, body(response)
    version = version_of(app)
    # Passes the schema, breaks the unique constraint: the commit fails and rolls back.
    response = client.post("/books", json={"title": "Dup 2", "author_id": 1, "isbn": "0441013597"})
    assert response.status_code == 409, body(response)
    assert version_of(app) == version


def test_a_rolled_back_session_does_not_bump_the_version(app, library):
    version = version_of(app)
    with app.app_context():
        db.session.add(Book(title="Never Kept", author_id=1))
        db.session.flush()  # the bump runs here, in the transaction...
        db.session.rollback()  # ...and is undone with the book
    assert version_of(app) == version


@pytest.mark.parametrize("role", [None, "reader", "librarian", "admin"])
def test_each_caller_gets_the_links_of_their_own_role(app, client, truth, library, auth, role):
    # Every role reads the same list in turn, from the same caching app.
    for other in ("anna", "libby", "adele"):
        auth.create(other, {"anna": "reader", "libby": "librarian", "adele": "admin"}[other])
    callers = {None: None, "reader": "anna", "librarian": "libby", "admin": "adele"}
    for name in callers.values():
        client.post("/auth/logout")
        if name:
            log_in(client, name)
        client.get("/books")
    truth.post("/auth/logout")
    client.post("/auth/logout")
    if callers[role]:
        log_in(client, callers[role])
        log_in(truth, callers[role])
    cached, fresh = client.get("/books"), truth.get("/books")
    assert cached.get_data() == fresh.get_data(), body(cached)


def test_a_reviewer_gets_the_links_of_their_own_reviews(app, client, truth, library, auth):
    auth.create("ann")
    auth.create("bob")
    for name in ("ann", "bob"):
        log_in(client, name)
        response = client.post("/reviews", json={"book_id": 1, "rating": 4})
        assert response.status_code == 201, body(response)
    for name in ("ann", "bob", "ann"):
        log_in(client, name)
        log_in(truth, name)
        cached, fresh = client.get("/reviews?book_id=1"), truth.get("/reviews?book_id=1")
        assert cached.get_data() == fresh.get_data(), body(cached)


def test_two_apps_on_one_database_never_serve_a_stale_page(app, client, library, auth):
    # Two workers: each keeps its own pages; a write through either must reach both.
    other = app_on(app)
    other_client = other.test_client()
    # Readers logged in and readers with no cookie, on each app.
    readers = [client, other_client, app.test_client(), other.test_client()]
    auth.create("libby", "librarian")
    log_in(client, "libby")
    log_in(other_client, "libby")
    for round_number in range(3):
        for writer in (client, other_client):
            for reader in readers:
                reader.get("/books?per_page=100")
            title = f"Written in round {round_number}"
            response = writer.post("/books", json={"title": title, "author_id": 1})
            assert response.status_code == 201, body(response)
            for reader in readers:
                titles = [book["title"] for book in reader.get("/books?per_page=100").get_json()]
                assert title in titles, titles


def test_the_cache_keeps_the_most_recently_used_pages():
    cache = PageCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recently used
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("a") == 1 and cache.get("c") == 3
    assert len(cache) == 2


def test_without_a_readable_version_lists_are_built_every_time(app):
    # An in-memory SQLite database is private to one connection: the cache's own connection
    # finds no data_version table there, so it keeps nothing and the lists stay right.
    memory = create_app({**app.config, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with memory.app_context():
        db.create_all()
    client = memory.test_client()
    for title in ("Kindred", "Dawn"):
        with memory.app_context():
            crud.create_book(title, crud.find_author("Octavia E. Butler")
                             or crud.create_author("Octavia E. Butler"))
        response = client.get("/books")
        assert response.status_code == 200, body(response)
        assert title in [book["title"] for book in response.get_json()], body(response)
    assert len(memory.extensions["page_cache"]) == 0
