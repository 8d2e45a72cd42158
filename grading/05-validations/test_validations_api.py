"""Hidden graders of lab 05: what the API answers when data breaks a rule, and what is stored."""

import datetime

import pytest

PROBLEM = "application/problem+json"


def field_errors(response, status):
    """Assert a problem with this status and return its ``errors`` object."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.mimetype == PROBLEM, (response.mimetype, response.text)
    errors = response.get_json().get("errors")
    assert isinstance(errors, dict) and errors, f"no 'errors' object: {response.text}"
    return errors


def create_book(client, **fields):
    """POST a book and return its JSON; the POST must succeed."""
    data = {"title": "Dune", "author": "Frank Herbert", "year": 1965, **fields}
    response = client.post("/books", json=data)
    assert response.status_code == 201, response.text
    return response.get_json()


def count(database, table, where="1", params=()):
    """How many rows of ``table`` match ``where``, read from the lab's database file."""
    return database.scalar(f"SELECT count(*) FROM {table} WHERE {where}", params)


@pytest.mark.grade(
    points=2,
    hint="Books take an 'isbn' (10 or 13 digits, hyphens allowed) and store it without hyphens.",
)
def test_book_isbn_is_stored_without_hyphens(client, database):
    book = create_book(client, isbn="978-0-441-17271-9")
    assert book.get("isbn") == "9780441172719", book
    other = create_book(client, title="Kindred", author="Octavia E. Butler", isbn="0-8070-8305-x")
    assert other.get("isbn") == "080708305X", other
    stored = database.rows("SELECT title, isbn FROM books ORDER BY id")
    assert stored == [
        {"title": "Dune", "isbn": "9780441172719"},
        {"title": "Kindred", "isbn": "080708305X"},
    ], stored
    assert client.get(f"/books/{book['id']}").get_json().get("isbn") == "9780441172719"


@pytest.mark.grade(
    points=2,
    hint="An ISBN must be 10 or 13 digits (hyphens and spaces dropped; the last of 10 may be X).",
)
def test_malformed_isbn_is_422(client, database):
    for isbn in ("12345", "978-0-441-17271-99", "97804411727X9", "ISBN", "", 9780441172719):
        response = client.post("/books", json={"title": "T", "author": "A", "isbn": isbn})
        assert "isbn" in field_errors(response, 422), (isbn, response.text)
    assert count(database, "books") == 0 and count(database, "authors") == 0
    accepted = create_book(client, isbn="0 8070 8305 4")
    assert accepted.get("isbn") == "0807083054", accepted


@pytest.mark.grade(
    points=3,
    hint="A second book with a taken ISBN is a 409 problem whose errors name 'isbn'.",
)
def test_taken_isbn_is_409_naming_the_field(client, database):
    create_book(client, isbn="9780441172719")
    response = client.post(
        "/books", json={"title": "Dune Again", "author_id": 1, "isbn": "978-0-441-17271-9"}
    )
    assert "isbn" in field_errors(response, 409), response.text
    assert count(database, "books") == 1


@pytest.mark.grade(
    points=2,
    hint="A failed create stores nothing: a new author named in a rejected book is not kept.",
)
def test_rejected_book_leaves_no_new_author_behind(client, database):
    create_book(client, isbn="9780441172719")
    response = client.post(
        "/books", json={"title": "Copycat", "author": "Brand New Writer", "isbn": "9780441172719"}
    )
    assert response.status_code == 409, response.text
    assert count(database, "authors", "name = ?", ("Brand New Writer",)) == 0, (
        "the author of a rejected book was stored: write the author and the book in one commit"
    )
    assert count(database, "books") == 1


@pytest.mark.grade(
    points=2, hint="PATCH a book to another book's ISBN: 409 naming 'isbn', and nothing changes."
)
def test_patch_book_to_a_taken_isbn_is_409(client, database):
    create_book(client, isbn="9780441172719")
    second = create_book(client, title="Kindred", author="Octavia E. Butler", isbn="0807083054")
    response = client.patch(
        f"/books/{second['id']}", json={"title": "Renamed", "isbn": "9780441172719"}
    )
    assert "isbn" in field_errors(response, 409), response.text
    row = database.one("SELECT title, isbn FROM books WHERE id = ?", (second["id"],))
    assert row == {"title": "Kindred", "isbn": "0807083054"}, row
    same = client.patch(f"/books/{second['id']}", json={"isbn": "0-8070-8305-4"})
    assert same.status_code == 200, f"keeping one's own ISBN is no clash: {same.text}"


@pytest.mark.grade(
    points=2, hint="A taken author name is a 409 problem whose errors name 'name' (POST and PATCH)."
)
def test_taken_author_name_is_409_naming_the_field(client, database):
    first = client.post("/authors", json={"name": "Only Once"}).get_json()
    second = client.post("/authors", json={"name": "Someone Else"}).get_json()
    assert "name" in field_errors(client.post("/authors", json={"name": "Only Once"}), 409)
    renamed = client.patch(f"/authors/{second['id']}", json={"name": "Only Once"})
    assert "name" in field_errors(renamed, 409), renamed.text
    names = [row["name"] for row in database.rows("SELECT name FROM authors ORDER BY id")]
    assert names == ["Only Once", "Someone Else"], names
    assert first["id"] != second["id"]


@pytest.mark.grade(
    points=2, hint="A second review of a book by the same user is a 409 naming 'book_id'."
)
def test_second_review_is_409_naming_the_field(client, database):
    book = create_book(client)
    data = {"book_id": book["id"], "username": "ada", "rating": 4}
    assert client.post("/reviews", json=data).status_code == 201
    response = client.post("/reviews", json={**data, "rating": 2})
    assert set(field_errors(response, 409)) & {"book_id", "username"}, response.text
    assert database.rows("SELECT rating FROM reviews") == [{"rating": 4}]


@pytest.mark.grade(
    points=2,
    hint="year is null or a whole number from 1450 to next year; anything else is a 422.",
)
def test_publication_year_must_be_sensible(client, database):
    next_year = datetime.date.today().year + 1
    for year in (1200, 0, -44, next_year + 1, 3000):
        response = client.post("/books", json={"title": "When?", "author": "A", "year": year})
        assert "year" in field_errors(response, 422), (year, response.text)
    book = create_book(client, year=None)
    for year in (1450, next_year):
        response = client.patch(f"/books/{book['id']}", json={"year": year})
        assert response.status_code == 200, (year, response.text)
    response = client.patch(f"/books/{book['id']}", json={"year": 1449})
    assert "year" in field_errors(response, 422), response.text
    assert database.scalar("SELECT year FROM books") == next_year


@pytest.mark.grade(
    points=2,
    hint="Limit lengths: title 300, name 200, username 80, bio and review body 5000; else 422.",
)
def test_overlong_text_is_422_and_stores_nothing(client, database):
    checks = [
        ("/books", {"title": "t" * 301, "author": "A"}, "title"),
        ("/books", {"title": "T", "author": "a" * 201}, "author"),
        ("/authors", {"name": "n" * 201}, "name"),
        ("/authors", {"name": "Fine", "bio": "b" * 5001}, "bio"),
    ]
    for url, data, field in checks:
        assert field in field_errors(client.post(url, json=data), 422), (url, field)
    book = create_book(client, title="t" * 300)
    review = {"book_id": book["id"], "username": "u" * 81, "rating": 3}
    assert "username" in field_errors(client.post("/reviews", json=review), 422)
    review = {"book_id": book["id"], "username": "u" * 80, "rating": 3, "body": "b" * 5001}
    assert "body" in field_errors(client.post("/reviews", json=review), 422)
    assert count(database, "books") == 1 and count(database, "users") == 0
    assert count(database, "authors") == 1 and count(database, "reviews") == 0
    at_the_limit = client.post("/authors", json={"name": "n" * 200, "bio": "b" * 5000})
    assert at_the_limit.status_code == 201, ("a name of 200 and a bio of 5000", at_the_limit.text)


@pytest.mark.app_config(TESTING=False)
@pytest.mark.grade(
    points=2,
    hint="With TESTING=False too, a clash is a 409 problem and a bad field a 422, never a 500.",
)
def test_conflicts_and_invalid_fields_in_production_configuration(client, database):
    create_book(client, isbn="9780441172719")
    clash = client.post("/books", json={"title": "X", "author": "Y", "isbn": "9780441172719"})
    assert "isbn" in field_errors(clash, 409), clash.text
    invalid = client.post("/books", json={"title": "X", "author": "Y", "year": 1200})
    assert "year" in field_errors(invalid, 422), invalid.text
    assert count(database, "books") == 1 and count(database, "authors") == 1
