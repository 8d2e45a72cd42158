"""Hidden graders of the fixture module 01-hello."""

import pytest

SECRET_GREETING_CHECK = "hidden-grader-marker-01"


@pytest.mark.grade(points=2, hint="Greet the visitor by name as JSON.")
def test_hello_greets_by_name(client):
    response = client.get("/hello/ada")
    assert response.status_code == 200, SECRET_GREETING_CHECK
    assert response.get_json() == {"greeting": "Hello, ada!"}, response.get_data(as_text=True)


@pytest.mark.grade(points=1, hint="Only GET is allowed on /hello/<name>.")
def test_hello_refuses_post(client):
    assert client.post("/hello/ada").status_code == 405
