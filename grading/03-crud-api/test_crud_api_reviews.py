"""Hidden graders of lab 03: the reviews endpoints."""

import pytest

PROBLEM = "application/problem+json"


def body(response):
    """The response body as text, for assertion messages."""
    return response.text


def create_book(client, title="Reviewed Book"):
    """POST a book and return its id."""
    response = client.post("/books", json={"title": title, "author": "Reviewed Author"})
    assert response.status_code == 201, body(response)
    return response.get_json()["id"]


def create_review(client, book_id, username="ada", rating=4, **fields):
    """POST a review and return its JSON; the POST must succeed."""
    data = {"book_id": book_id, "username": username, "rating": rating, **fields}
    response = client.post("/reviews", json=data)
    assert response.status_code == 201, body(response)
    return response.get_json()


@pytest.mark.grade(
    points=2, hint="POST /reviews answers 201 with the review and a Location header."
)
def test_create_review_answers_201_with_location(client):
    book_id = create_book(client)
    data = {"book_id": book_id, "username": "ada", "rating": 5, "body": "Loved it."}
    response = client.post("/reviews", json=data)
    assert response.status_code == 201, body(response)
    review = response.get_json()
    assert {key: review.get(key) for key in data} == data, body(response)
    location = response.headers.get("Location", "")
    assert location.endswith(f"/reviews/{review['id']}"), location
    assert client.get(location).get_json()["rating"] == 5


@pytest.mark.grade(points=1, hint="GET /reviews?book_id=N lists only the reviews of book N.")
def test_list_reviews_filters_by_book(client):
    first, second = create_book(client, "First"), create_book(client, "Second")
    create_review(client, first, "ada")
    create_review(client, second, "ada")
    create_review(client, first, "bo")
    reviews = client.get(f"/reviews?book_id={first}").get_json()
    assert [(r["book_id"], r["username"]) for r in reviews] == [(first, "ada"), (first, "bo")]
    assert len(client.get("/reviews").get_json()) == 3
    assert client.get("/reviews?book_id=999").get_json() == []


@pytest.mark.grade(
    points=2, hint="rating must be a whole number from 1 to 5 (not 0, 6, 4.5, '5' or true): 422."
)
def test_rating_outside_1_to_5_is_422(client):
    book_id = create_book(client)
    for value in (0, 6, 4.5, "5", True, None):
        data = {"book_id": book_id, "username": "picky", "rating": value}
        response = client.post("/reviews", json=data)
        assert response.status_code == 422, (value, body(response))
        assert response.mimetype == PROBLEM, (value, response.mimetype)
        assert "rating" in response.get_json().get("errors", {}), (value, body(response))
    assert client.get("/reviews").get_json() == []


@pytest.mark.grade(points=1, hint="A review of a book that does not exist is a 422 naming book_id.")
def test_review_of_unknown_book_is_422(client):
    response = client.post("/reviews", json={"book_id": 555, "username": "ada", "rating": 3})
    assert response.status_code == 422, body(response)
    assert "book_id" in response.get_json().get("errors", {}), body(response)


@pytest.mark.grade(
    points=1, hint="Missing book_id, username and rating are all reported in one 422."
)
def test_review_without_fields_reports_each_missing_field(client):
    response = client.post("/reviews", json={})
    assert response.status_code == 422, body(response)
    errors = response.get_json().get("errors", {})
    assert {"book_id", "username", "rating"} <= set(errors), body(response)


@pytest.mark.grade(points=1, hint="The same user reviewing the same book twice is a 409 Conflict.")
def test_second_review_by_same_user_is_409(client):
    book_id = create_book(client)
    create_review(client, book_id, "ada", 4)
    response = client.post("/reviews", json={"book_id": book_id, "username": "ada", "rating": 1})
    assert response.status_code == 409, body(response)
    assert response.mimetype == PROBLEM, response.mimetype
    assert [r["rating"] for r in client.get("/reviews").get_json()] == [4]


@pytest.mark.grade(points=1, hint="PATCH /reviews/<id> with a rating keeps the body text.")
def test_patch_review_changes_only_given_fields(client):
    review = create_review(client, create_book(client), body="Kept words.")
    response = client.patch(f"/reviews/{review['id']}", json={"rating": 2})
    assert response.status_code == 200, body(response)
    stored = client.get(f"/reviews/{review['id']}").get_json()
    assert (stored["rating"], stored["body"]) == (2, "Kept words."), stored


@pytest.mark.grade(
    points=1, hint="PATCH checks the rating too: 9 is a 422 and the review keeps its rating."
)
def test_patch_review_with_bad_rating_is_422(client):
    review = create_review(client, create_book(client), rating=3)
    response = client.patch(f"/reviews/{review['id']}", json={"rating": 9})
    assert response.status_code == 422, body(response)
    assert client.get(f"/reviews/{review['id']}").get_json()["rating"] == 3


@pytest.mark.grade(
    points=1, hint="DELETE /reviews/<id> answers 204 with an empty body; the book stays."
)
def test_delete_review_answers_204(client):
    book_id = create_book(client)
    review = create_review(client, book_id)
    response = client.delete(f"/reviews/{review['id']}")
    assert response.status_code == 204 and response.data == b"", body(response)
    assert client.get(f"/reviews/{review['id']}").status_code == 404
    assert client.get(f"/books/{book_id}").status_code == 200


@pytest.mark.grade(
    points=1, hint="A review id that does not exist is a 404 problem for GET, PATCH and DELETE."
)
def test_missing_review_is_404_problem(client):
    for response in (
        client.get("/reviews/4040"),
        client.patch("/reviews/4040", json={"rating": 3}),
        client.delete("/reviews/4040"),
    ):
        assert response.status_code == 404, body(response)
        assert response.mimetype == PROBLEM, response.mimetype


@pytest.mark.grade(
    points=1, hint='PATCH a review with "body": null clears the body to "" and answers 200.'
)
def test_patch_review_with_null_body_clears_it(client):
    review = create_review(client, create_book(client), body="Too long; did not read.")
    response = client.patch(f"/reviews/{review['id']}", json={"body": None})
    assert response.status_code == 200, body(response)
    assert response.get_json()["body"] == "", body(response)
    assert client.get(f"/reviews/{review['id']}").get_json()["body"] == ""


@pytest.mark.grade(points=1, hint='A review sent without a body is stored with the body "".')
def test_review_without_body_has_an_empty_body(client):
    book_id = create_book(client)
    review = create_review(client, book_id, "quiet", 4)
    assert review["body"] == "", review
    assert client.get(f"/reviews/{review['id']}").get_json()["body"] == ""
