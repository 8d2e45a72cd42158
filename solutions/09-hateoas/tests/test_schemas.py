"""Visible tests of lab 08: the marshmallow schemas, directly and through the API."""

import pytest
from bookshelf import create_app
from bookshelf.schemas import AuthorSchema, BookSchema, ReviewSchema
from marshmallow import ValidationError

PROBLEM = "application/problem+json"


def body(response):
    """The response body as text, for assertion messages."""
    return response.get_data(as_text=True)


@pytest.fixture
def shelf(client, auth):
    """A librarian shelves Kindred by Octavia E. Butler, then the reader rita logs in."""
    auth.create("libby", "librarian")
    auth.create("rita")
    auth.login("libby")
    author = client.post("/authors", json={"name": "Octavia E. Butler"}).get_json()
    book = client.post("/books", json={"title": "Kindred", "author_id": author["id"]}).get_json()
    auth.login("rita")
    return {"author": author, "book": book}


def refused_fields(schema, data, **kwargs):
    """The fields ``schema.load(data)`` refuses (an empty set when it accepts the data)."""
    try:
        schema.load(data, **kwargs)
    except ValidationError as error:
        return set(error.messages)
    return set()


def test_review_answer_nests_its_book(client, shelf):
    book = shelf["book"]
    response = client.post("/reviews", json={"book_id": book["id"], "rating": 5})
    assert response.status_code == 201, body(response)
    expected = {"id": book["id"], "title": "Kindred", "author": "Octavia E. Butler"}
    assert response.get_json().get("book") == expected, body(response)
    assert client.get("/reviews").get_json()[0].get("book") == expected


def test_book_detail_nests_its_reviews_and_the_list_does_not(client, shelf):
    book_id = shelf["book"]["id"]
    client.post("/reviews", json={"book_id": book_id, "rating": 4, "body": "Haunting."})
    detail = client.get(f"/books/{book_id}").get_json()
    assert [r.get("body") for r in detail.get("reviews", [])] == ["Haunting."], detail
    assert detail["reviews"][0]["username"] == "rita", detail
    assert "reviews" not in client.get("/books").get_json()[0]


def test_authors_show_their_book_count(client, shelf):
    listed = client.get("/authors").get_json()
    assert [author.get("book_count") for author in listed] == [1], listed
    assert "books" not in listed[0], "lists leave the nested books out"
    detail = client.get(f"/authors/{shelf['author']['id']}").get_json()
    assert [b["title"] for b in detail["books"]] == ["Kindred"], detail


def test_schemas_refuse_id_dump_only_and_unknown_fields(app, shelf):
    with app.app_context():
        author_id = shelf["author"]["id"]
        good = {"title": "Dawn", "author_id": author_id}
        assert refused_fields(BookSchema(), good) == set()
        assert refused_fields(BookSchema(), {**good, "id": 1}) == {"id"}
        assert refused_fields(BookSchema(), {**good, "reviews": []}) == {"reviews"}
        assert refused_fields(BookSchema(), {**good, "pages": 3}) == {"pages"}
        assert refused_fields(AuthorSchema(), {"name": "A", "book_count": 0}) == {"book_count"}
        assert refused_fields(ReviewSchema(), {"book_id": 1, "rating": 3, "book": {}}) == {"book"}


def test_book_schema_loads_the_author_and_checks_it(app, shelf):
    with app.app_context():
        author_id = shelf["author"]["id"]
        loaded = BookSchema().load({"title": " Dawn ", "author_id": author_id})
        assert loaded["title"] == "Dawn" and loaded["author"].id == author_id, loaded
        assert refused_fields(BookSchema(), {"title": "Dawn"}) == {"author"}
        assert refused_fields(BookSchema(), {"title": "Dawn", "author_id": 999}) == {"author_id"}
        assert refused_fields(BookSchema(), {"year": 1987}, partial=True) == set()


def test_patch_holding_another_id_changes_nothing(client, auth, shelf):
    auth.login("libby")
    author_id = shelf["author"]["id"]
    other = client.post("/books", json={"title": "Dawn", "author_id": author_id}).get_json()
    response = client.patch(f"/books/{shelf['book']['id']}", json={"id": other["id"], "year": 1})
    assert response.status_code == 422, body(response)
    assert set(response.get_json()["errors"]) == {"id", "year"}, body(response)
    assert client.get(f"/books/{other['id']}").get_json()["title"] == "Dawn"
    assert client.get(f"/books/{shelf['book']['id']}").get_json()["year"] is None


def test_load_errors_are_422_problems_in_production(tmp_path):
    app = create_app(
        {
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'production.sqlite'}",
            "LOGIN_DISABLED": True,
        }
    )
    with app.app_context():
        app.extensions["sqlalchemy"].create_all()
    response = app.test_client().post("/books", json={"title": 7, "colour": "red"})
    assert response.status_code == 422, body(response)
    assert response.mimetype == PROBLEM, response.mimetype
    errors = response.get_json()["errors"]
    assert set(errors) == {"title", "author", "colour"}, errors
    assert all(isinstance(message, str) for message in errors.values()), errors
