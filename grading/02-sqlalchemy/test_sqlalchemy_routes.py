"""Hidden graders of lab 02: the /books routes read and write the database."""

from urllib.parse import quote

import pytest


def body(response):
    """The response body as text, for assertion messages."""
    return response.text


def store_book(call, model_ref, title, author_name, year=None):
    """Store an author (when new) and a book through the student's helpers; return the book."""
    author = call("crud.find_author", author_name) or call("crud.create_author", author_name)
    return call("crud.create_book", title, model_ref("Author", author["id"]), year)


@pytest.mark.grade(
    points=2,
    hint="POST /books must store the book in the database (crud.create_book), not in the "
    "in-memory store of lab 01.",
)
def test_post_book_stores_it_in_the_database(client, database):
    response = client.post(
        "/books", json={"title": "The Lathe of Heaven", "author": "Ursula K. Le Guin", "year": 1971}
    )
    assert response.status_code == 201, body(response)
    book_id = response.get_json()["id"]
    row = database.one(
        "SELECT books.title, books.year, authors.name AS author FROM books"
        " JOIN authors ON authors.id = books.author_id WHERE books.id = ?",
        (book_id,),
    )
    expected = {"title": "The Lathe of Heaven", "year": 1971, "author": "Ursula K. Le Guin"}
    assert row == expected, f"row {row} for the response {body(response)}"


@pytest.mark.grade(
    points=1,
    hint="POST /books reuses the Author row of that name (crud.find_author) before creating one.",
)
def test_posting_two_books_by_one_author_stores_one_author(client, database):
    for title in ("Kindred", "Dawn"):
        response = client.post("/books", json={"title": title, "author": "Octavia E. Butler"})
        assert response.status_code == 201, body(response)
    authors = database.rows("SELECT name FROM authors")
    assert authors == [{"name": "Octavia E. Butler"}], authors
    assert database.scalar("SELECT count(*) FROM books") == 2


@pytest.mark.grade(
    points=2,
    hint="GET /books lists the rows of the books table (crud.list_books) as dicts, by id.",
)
def test_list_books_answers_the_rows_of_the_database(client, call, model_ref):
    store_book(call, model_ref, "Record of a Spaceborn Few", "Becky Chambers", 2018)
    store_book(call, model_ref, "The Long Way to a Small, Angry Planet", "Becky Chambers", 2014)
    response = client.get("/books")
    assert response.status_code == 200, body(response)
    listed = [(book["title"], book["author"], book["year"]) for book in response.get_json()]
    assert listed == [
        ("Record of a Spaceborn Few", "Becky Chambers", 2018),
        ("The Long Way to a Small, Angry Planet", "Becky Chambers", 2014),
    ], body(response)


@pytest.mark.grade(
    points=1,
    hint="crud.list_books(limit=N) adds .limit(N) to the query; GET /books?limit= passes it on.",
)
def test_limit_is_part_of_the_query(client, call, model_ref):
    for title in ("Sea of Rust", "The Sea Change", "Seaward", "Dry Land"):
        store_book(call, model_ref, title, "Various Authors")
    limited = call("crud.list_books", title_contains="sea", limit=2)
    assert [book["title"] for book in limited] == ["Sea of Rust", "The Sea Change"], limited
    limited = call("crud.list_books", limit=3)
    assert [book["title"] for book in limited] == ["Sea of Rust", "The Sea Change", "Seaward"], (
        "a limit without a title filter",
        limited,
    )
    response = client.get("/books?q=SEA&limit=1")
    assert [book["title"] for book in response.get_json()] == ["Sea of Rust"], body(response)
    response = client.get("/books?limit=2")
    assert [book["title"] for book in response.get_json()] == ["Sea of Rust", "The Sea Change"], (
        body(response)
    )


@pytest.mark.grade(
    points=1,
    hint="GET /books?q= passes the text on to crud.list_books(title_contains=...), "
    "so the database filters the titles (any case).",
)
def test_q_filters_the_books_of_the_database(client, call, model_ref):
    for title in ("Piranesi", "Jonathan Strange & Mr Norrell", "The Ladies of Grace Adieu"):
        store_book(call, model_ref, title, "Susanna Clarke")
    response = client.get("/books?q=STRANGE")
    assert response.status_code == 200, body(response)
    titles = [book["title"] for book in response.get_json()]
    assert titles == ["Jonathan Strange & Mr Norrell"], body(response)
    response = client.get("/books?q=" + quote(" grace "))
    assert [book["title"] for book in response.get_json()] == ["The Ladies of Grace Adieu"], body(
        response
    )


@pytest.mark.grade(
    points=1,
    hint="GET /books/<int:book_id> reads the book with crud.get_book; a missing one is a 404.",
)
def test_get_book_reads_the_database(client, call, model_ref):
    book = store_book(call, model_ref, "Exhalation", "Ted Chiang", 2019)
    response = client.get(f"/books/{book['id']}")
    assert response.status_code == 200, body(response)
    found = response.get_json()
    assert (found["title"], found["author"], found["year"]) == ("Exhalation", "Ted Chiang", 2019)
    missing = client.get(f"/books/{book['id'] + 1}")
    assert missing.status_code == 404 and missing.is_json, body(missing)


@pytest.mark.grade(
    points=1,
    hint="GET /books/author/<name> asks the database (crud.books_by_author_name), any case, "
    "spaces around the name ignored.",
)
def test_books_by_author_reads_the_database(client, call, model_ref):
    store_book(call, model_ref, "Stories of Your Life", "Ted Chiang", 2002)
    store_book(call, model_ref, "Piranesi", "Susanna Clarke", 2020)
    for name in ("TED chiang", "  Ted Chiang "):
        response = client.get("/books/author/" + quote(name))
        assert response.status_code == 200, body(response)
        assert [book["title"] for book in response.get_json()] == ["Stories of Your Life"], (
            name,
            body(response),
        )


@pytest.mark.grade(
    points=1, hint="After `flask seed`, GET /books answers exactly the seeded books."
)
def test_seeded_books_are_served(client, runner, database):
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    stored = [row["title"] for row in database.rows("SELECT title FROM books ORDER BY id")]
    assert stored, "the seed command stored no books"
    response = client.get("/books")
    assert [book["title"] for book in response.get_json()] == stored, body(response)
