"""Hidden graders of lab 03: the authors endpoints."""

import pytest

PROBLEM = "application/problem+json"


def body(response):
    """The response body as text, for assertion messages."""
    return response.text


def create_author(client, name="Ann Leckie", **fields):
    """POST an author and return its JSON; the POST must succeed."""
    response = client.post("/authors", json={"name": name, **fields})
    assert response.status_code == 201, body(response)
    return response.get_json()


@pytest.mark.grade(points=1, hint="GET /authors on an empty database answers 200 and [].")
def test_list_authors_is_empty_at_first(client):
    response = client.get("/authors")
    assert response.status_code == 200, body(response)
    assert response.get_json() == [], body(response)


@pytest.mark.grade(
    points=2, hint="POST /authors answers 201, the author, and a Location header to GET it."
)
def test_create_author_answers_201_with_location(client):
    response = client.post("/authors", json={"name": "Ann Leckie", "bio": "Imperial Radch."})
    assert response.status_code == 201, body(response)
    author = response.get_json()
    assert (author.get("name"), author.get("bio")) == ("Ann Leckie", "Imperial Radch."), author
    location = response.headers.get("Location", "")
    assert location.endswith(f"/authors/{author['id']}"), location
    followed = client.get(location)
    assert followed.status_code == 200 and followed.get_json()["name"] == "Ann Leckie", body(
        followed
    )


@pytest.mark.grade(points=1, hint="GET /authors lists every author, sorted by name.")
def test_list_authors_sorted_by_name(client):
    for name in ("Zora Neale Hurston", "Amitav Ghosh", "Mervyn Peake"):
        create_author(client, name)
    names = [author["name"] for author in client.get("/authors").get_json()]
    assert names == ["Amitav Ghosh", "Mervyn Peake", "Zora Neale Hurston"], names


@pytest.mark.grade(
    points=1, hint="GET /authors/<id> includes a 'books' list with that author's books."
)
def test_get_author_includes_their_books(client):
    author = create_author(client, "Hilary Mantel")
    for title in ("Wolf Hall", "Bring Up the Bodies"):
        created = client.post("/books", json={"title": title, "author_id": author["id"]})
        assert created.status_code == 201, body(created)
    client.post("/books", json={"title": "Elsewhere", "author": "Another Writer"})
    response = client.get(f"/authors/{author['id']}")
    assert response.status_code == 200, body(response)
    titles = [book["title"] for book in response.get_json().get("books", [])]
    assert titles == ["Wolf Hall", "Bring Up the Bodies"], body(response)


@pytest.mark.grade(points=1, hint="POST /books with an author's name reuses the existing author.")
def test_books_by_the_same_author_name_share_the_author(client):
    author = create_author(client, "Shared Name")
    book = client.post("/books", json={"title": "Reused", "author": "Shared Name"}).get_json()
    assert book["author_id"] == author["id"], book
    assert len(client.get("/authors").get_json()) == 1


@pytest.mark.grade(
    points=1, hint="A new author needs a non-empty string name: otherwise 422 with errors.name."
)
def test_create_author_without_valid_name_is_422(client):
    for data in ({}, {"name": ""}, {"name": "   "}, {"name": 7}, {"name": "Ok", "bio": 5}):
        response = client.post("/authors", json=data)
        assert response.status_code == 422, (data, body(response))
        assert response.mimetype == PROBLEM, (data, response.mimetype)
        errors = response.get_json().get("errors", {})
        assert set(errors) & {"name", "bio"}, (data, body(response))
    assert client.get("/authors").get_json() == []


@pytest.mark.grade(points=1, hint="A second author with the same name is a 409 Conflict problem.")
def test_create_author_with_taken_name_is_409(client):
    create_author(client, "Only One")
    response = client.post("/authors", json={"name": "Only One"})
    assert response.status_code == 409, body(response)
    assert response.mimetype == PROBLEM, response.mimetype
    assert len(client.get("/authors").get_json()) == 1


@pytest.mark.grade(points=1, hint="PATCH /authors/<id> with only a bio keeps the name.")
def test_patch_author_changes_only_given_fields(client):
    author = create_author(client, "Kept Name", bio="old")
    response = client.patch(f"/authors/{author['id']}", json={"bio": "new"})
    assert response.status_code == 200, body(response)
    stored = client.get(f"/authors/{author['id']}").get_json()
    assert (stored["name"], stored["bio"]) == ("Kept Name", "new"), stored


@pytest.mark.grade(points=1, hint="Renaming an author to a name another author has is a 409.")
def test_patch_author_to_a_taken_name_is_409(client):
    create_author(client, "First Name")
    second = create_author(client, "Second Name")
    response = client.patch(f"/authors/{second['id']}", json={"name": "First Name"})
    assert response.status_code == 409, body(response)
    assert response.mimetype == PROBLEM, response.mimetype
    assert client.get(f"/authors/{second['id']}").get_json()["name"] == "Second Name"


@pytest.mark.grade(
    points=1,
    hint="PATCH /authors/<id> may rename an author to a free name, or send their own name "
    "again: both are 200. Only another author's name is a conflict (refuse_taken_name).",
)
def test_patch_author_to_a_free_name_or_their_own_name_is_200(client):
    author = create_author(client, "Old Name", bio="kept")
    create_author(client, "Someone Else")
    url = f"/authors/{author['id']}"
    response = client.patch(url, json={"name": "New Name"})
    assert response.status_code == 200, body(response)
    assert response.get_json()["name"] == "New Name", body(response)
    stored = client.get(url).get_json()
    assert (stored["name"], stored["bio"]) == ("New Name", "kept"), stored
    response = client.patch(url, json={"name": "New Name", "bio": "changed"})
    assert response.status_code == 200, body(response)
    stored = client.get(url).get_json()
    assert (stored["name"], stored["bio"]) == ("New Name", "changed"), stored


@pytest.mark.grade(points=1, hint="DELETE an author without books: 204, empty body, then 404.")
def test_delete_author_without_books(client):
    author = create_author(client, "Leaving")
    response = client.delete(f"/authors/{author['id']}")
    assert response.status_code == 204, body(response)
    assert response.data == b"", body(response)
    assert client.get(f"/authors/{author['id']}").status_code == 404


@pytest.mark.grade(
    points=2, hint="Refuse to delete an author who still has books: 409, and keep everything."
)
def test_delete_author_with_books_is_409(client):
    book = client.post("/books", json={"title": "Anchor", "author": "Busy Writer"})
    assert book.status_code == 201, body(book)
    author_id = book.get_json()["author_id"]
    response = client.delete(f"/authors/{author_id}")
    assert response.status_code == 409, body(response)
    assert response.mimetype == PROBLEM, response.mimetype
    assert client.get(f"/authors/{author_id}").status_code == 200
    assert client.get(f"/books/{book.get_json()['id']}").status_code == 200


@pytest.mark.grade(
    points=1, hint="GET, PATCH and DELETE on an author who does not exist are 404 problems."
)
def test_missing_author_is_404_problem(client):
    for response in (
        client.get("/authors/8080"),
        client.patch("/authors/8080", json={"bio": "x"}),
        client.delete("/authors/8080"),
    ):
        assert response.status_code == 404, body(response)
        assert response.mimetype == PROBLEM, response.mimetype
