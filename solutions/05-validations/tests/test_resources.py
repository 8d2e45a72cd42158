"""Visible tests of lab 04: the API served by Flask-RESTful resources, in tests and production."""

import pytest
from flask_restful import Resource

PROBLEM = "application/problem+json"


def body(response):
    """The response body as text, for assertion messages."""
    return response.get_data(as_text=True)


def assert_served_by_resources(app, expected):
    """Each URL rule of ``expected`` is served by its Resource class under its endpoint name."""
    rules = {rule.rule: rule.endpoint for rule in app.url_map.iter_rules()}
    for url, (endpoint, class_name) in expected.items():
        assert rules.get(url) == endpoint, f"{url} is served by endpoint {rules.get(url)!r}"
        view_class = getattr(app.view_functions[endpoint], "view_class", None)
        assert view_class is not None and issubclass(view_class, Resource), (url, view_class)
        assert view_class.__name__ == class_name, (url, view_class)


REGISTER_HINT = (
    "In api.init_app, add the resource with api.add_resource(Class, url, endpoint=...); "
    "then call api.init_app(app) in create_app instead of register_blueprints(app)."
)


@pytest.mark.grade(points=2, hint=REGISTER_HINT)
def test_authors_are_served_by_resources(app):
    assert_served_by_resources(
        app,
        {
            "/authors": ("authors", "AuthorList"),
            "/authors/<int:author_id>": ("author", "AuthorItem"),
        },
    )


@pytest.mark.grade(points=2, hint=REGISTER_HINT)
def test_books_are_served_by_resources(app):
    assert_served_by_resources(
        app,
        {
            "/books": ("books", "BookList"),
            "/books/<int:book_id>": ("book", "BookItem"),
            "/books/author/<name>": ("books_by_author", "BooksByAuthor"),
        },
    )


@pytest.mark.grade(points=2, hint=REGISTER_HINT)
def test_reviews_and_the_root_are_served_by_resources(app):
    assert_served_by_resources(
        app,
        {
            "/reviews": ("reviews", "ReviewList"),
            "/reviews/<int:review_id>": ("review", "ReviewItem"),
            "/": ("index", "Index"),
        },
    )


@pytest.mark.grade(
    points=2,
    hint="Flask-RESTful answers abort(404) itself with {'message': ...}; ProblemApi.handle_error "
    "must re-raise so errors.py answers with problem details.",
)
def test_missing_author_is_a_404_problem_in_production(app, production_client):
    assert_served_by_resources(app, {"/authors/<int:author_id>": ("author", "AuthorItem")})
    response = production_client.get("/authors/4242")
    assert response.status_code == 404, body(response)
    assert response.mimetype == PROBLEM, (response.mimetype, body(response))


@pytest.mark.grade(
    points=2,
    hint="With TESTING off, Flask-RESTful turns an IntegrityError into a bare 500 unless "
    "handle_error re-raises it to your 409 handler.",
)
def test_second_review_is_a_409_problem_in_production(app, production_client):
    assert_served_by_resources(app, {"/reviews": ("reviews", "ReviewList")})
    book = production_client.post("/books", json={"title": "Kindred", "author": "O. Butler"})
    review = {"book_id": book.get_json()["id"], "username": "ada", "rating": 5}
    assert production_client.post("/reviews", json=review).status_code == 201
    response = production_client.post("/reviews", json=review)
    assert response.status_code == 409, body(response)
    assert response.mimetype == PROBLEM, (response.mimetype, body(response))


@pytest.mark.grade(
    points=2, hint="validate() reports a field it has no check for as a 422 error on that field."
)
def test_unknown_fields_are_422_problems(client):
    response = client.post("/authors", json={"name": "Ann Leckie", "nickname": "Ann"})
    assert response.status_code == 422, body(response)
    assert "nickname" in response.get_json()["errors"], body(response)
    assert client.get("/authors").get_json() == [], "a refused request must create nothing"
    book = client.post("/books", json={"title": "Dawn", "author": "O. Butler"}).get_json()
    review = {"book_id": book["id"], "username": "ada", "rating": 4}
    review_id = client.post("/reviews", json=review).get_json()["id"]
    moved = client.patch(f"/reviews/{review_id}", json={"book_id": 99})
    assert moved.status_code == 422, body(moved)
    assert "book_id" in moved.get_json()["errors"], body(moved)


@pytest.mark.grade(
    points=1, hint="DELETE answers 204 with an empty body: return Response(status=204)."
)
def test_delete_review_answers_an_empty_204(app, client):
    assert_served_by_resources(app, {"/reviews/<int:review_id>": ("review", "ReviewItem")})
    book = client.post("/books", json={"title": "Dawn", "author": "O. Butler"}).get_json()
    review = {"book_id": book["id"], "username": "ada", "rating": 4}
    review_id = client.post("/reviews", json=review).get_json()["id"]
    response = client.delete(f"/reviews/{review_id}")
    assert response.status_code == 204, body(response)
    assert response.data == b"", body(response)
    assert response.headers.get("Content-Length", "0") == "0", response.headers
