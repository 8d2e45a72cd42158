"""Hidden graders of lab 03: the books endpoints over the database."""

import pytest

PROBLEM = "application/problem+json"


def body(response):
    """The response body as text, for assertion messages."""
    return response.text


def create_book(client, **fields):
    """POST a book and return its JSON; the POST must succeed."""
    data = {"title": "The Fifth Season", "author": "N. K. Jemisin", "year": 2015, **fields}
    response = client.post("/books", json=data)
    assert response.status_code == 201, body(response)
    return response.get_json()


def create_author(call, name):
    """Store an author through the lab's CRUD helper (not the API) and return its id."""
    return call("crud.create_author", name)["id"]


@pytest.mark.grade(
    points=2, hint="After POST /books, the Location header is the URL of the new book."
)
def test_create_book_sets_location_of_the_new_book(client):
    response = client.post("/books", json={"title": "Located", "author": "Some One"})
    assert response.status_code == 201, body(response)
    location = response.headers.get("Location", "")
    assert location.endswith(f"/books/{response.get_json()['id']}"), location
    followed = client.get(location)
    assert followed.status_code == 200 and followed.get_json()["title"] == "Located", body(followed)


@pytest.mark.grade(
    points=2, hint="POST /books also accepts author_id, the id of an existing author."
)
def test_create_book_with_author_id(call, client):
    author_id = create_author(call, "Becky Chambers")
    response = client.post("/books", json={"title": "Wayfarers", "author_id": author_id})
    assert response.status_code == 201, body(response)
    book = response.get_json()
    assert book["author"] == "Becky Chambers" and book["author_id"] == author_id, body(response)


@pytest.mark.grade(
    points=1, hint="An author_id that matches no author is a 422 with errors.author_id."
)
def test_create_book_with_unknown_author_id_is_422(client):
    response = client.post("/books", json={"title": "Lost", "author_id": 4242})
    assert response.status_code == 422, body(response)
    assert response.mimetype == PROBLEM, response.mimetype
    assert "author_id" in response.get_json().get("errors", {}), body(response)


@pytest.mark.grade(
    points=2, hint="Wrong JSON types are 422 with one entry per bad field in errors, never 500."
)
def test_create_book_with_wrong_types_lists_every_bad_field(client):
    response = client.post("/books", json={"title": 42, "author": ["x"], "year": "1999"})
    assert response.status_code == 422, body(response)
    assert response.mimetype == PROBLEM, response.mimetype
    errors = response.get_json().get("errors", {})
    assert {"title", "author", "year"} <= set(errors), body(response)
    assert client.get("/books").get_json() == [], "an invalid book was stored"


@pytest.mark.grade(
    points=1, hint="A missing title is a 422 problem whose errors name the title field."
)
def test_create_book_without_title_is_422_with_field_error(client):
    response = client.post("/books", json={"author": "Nobody", "year": 2001})
    assert response.status_code == 422, body(response)
    assert response.mimetype == PROBLEM, response.mimetype
    assert "title" in response.get_json().get("errors", {}), body(response)


@pytest.mark.grade(
    points=2, hint="PATCH changes only the fields in the body; the others keep their values."
)
def test_patch_book_changes_only_given_fields(client):
    book = create_book(client, title="Old Title", year=2000)
    response = client.patch(f"/books/{book['id']}", json={"year": 2001})
    assert response.status_code == 200, body(response)
    assert response.get_json()["year"] == 2001, body(response)
    stored = client.get(f"/books/{book['id']}").get_json()
    assert (stored["title"], stored["year"], stored["author"]) == (
        "Old Title",
        2001,
        book["author"],
    ), stored


@pytest.mark.grade(points=1, hint="PATCH with author_id moves a book to another existing author.")
def test_patch_book_moves_it_to_another_author(call, client):
    book = create_book(client)
    other = create_author(call, "Martha Wells")
    response = client.patch(f"/books/{book['id']}", json={"author_id": other})
    assert response.status_code == 200, body(response)
    stored = client.get(f"/books/{book['id']}").get_json()
    assert (stored["author_id"], stored["author"]) == (other, "Martha Wells"), stored


@pytest.mark.grade(
    points=2, hint="PATCH validates like POST: bad types are 422 and nothing changes."
)
def test_patch_book_with_bad_values_is_422_and_changes_nothing(client):
    book = create_book(client, title="Stable", year=1990)
    response = client.patch(f"/books/{book['id']}", json={"title": "", "year": 19.5})
    assert response.status_code == 422, body(response)
    assert response.mimetype == PROBLEM, response.mimetype
    assert {"title", "year"} <= set(response.get_json().get("errors", {})), body(response)
    stored = client.get(f"/books/{book['id']}").get_json()
    assert (stored["title"], stored["year"]) == ("Stable", 1990), stored


@pytest.mark.grade(points=1, hint="PATCH on a book that does not exist is a 404 problem.")
def test_patch_missing_book_is_404(client):
    response = client.patch("/books/31337", json={"title": "Ghost"})
    assert response.status_code == 404, body(response)
    assert response.mimetype == PROBLEM, response.mimetype


@pytest.mark.grade(
    points=2, hint="DELETE /books/<id> answers 204 with an empty body; the book is gone."
)
def test_delete_book_answers_204_and_removes_it(client):
    book = create_book(client)
    response = client.delete(f"/books/{book['id']}")
    assert response.status_code == 204, body(response)
    assert response.data == b"", body(response)
    assert client.get(f"/books/{book['id']}").status_code == 404
    assert client.delete(f"/books/{book['id']}").status_code == 404


@pytest.mark.grade(points=1, hint="Deleting a book through the API also deletes its reviews.")
def test_delete_book_removes_its_reviews(client):
    book = create_book(client)
    review = client.post(
        "/reviews", json={"book_id": book["id"], "username": "reader", "rating": 4}
    )
    assert review.status_code == 201, body(review)
    assert client.delete(f"/books/{book['id']}").status_code == 204
    assert client.get(f"/reviews/{review.get_json()['id']}").status_code == 404
    assert client.get("/reviews").get_json() == []


@pytest.mark.grade(
    points=1, hint="GET on a missing book is a problem: type, title, status and detail."
)
def test_missing_book_is_a_problem_document(client):
    response = client.get("/books/777")
    assert response.status_code == 404, body(response)
    assert response.mimetype == PROBLEM, response.mimetype
    problem = response.get_json()
    assert problem.get("status") == 404 and problem.get("title") == "Not Found", problem
    assert isinstance(problem.get("type"), str) and isinstance(problem.get("detail"), str), problem


@pytest.mark.grade(
    points=1, hint="PATCH /books/<id> with a title or an author's name changes just that field."
)
def test_patch_book_title_and_author_name(client):
    book = create_book(client, title="Draft Title", year=2010)
    response = client.patch(f"/books/{book['id']}", json={"title": "Final Title"})
    assert response.status_code == 200, body(response)
    assert response.get_json()["title"] == "Final Title", body(response)
    response = client.patch(f"/books/{book['id']}", json={"author": "A New Author"})
    assert response.status_code == 200, body(response)
    stored = client.get(f"/books/{book['id']}").get_json()
    assert (stored["title"], stored["year"], stored["author"]) == (
        "Final Title",
        2010,
        "A New Author",
    ), stored
