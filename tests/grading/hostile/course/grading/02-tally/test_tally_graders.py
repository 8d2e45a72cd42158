"""Hidden graders of the fixture module 02-tally."""

import pytest


@pytest.mark.grade(points=2, hint="Every POST /tally adds one.", visible=True)
def test_tally_counts_posts(client):
    client.post("/tally")
    client.post("/tally")
    response = client.get("/tally")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"count": 2}, response.get_data(as_text=True)


@pytest.mark.grade(points=1, hint="GET /ping answers pong.")
def test_ping_answers_pong(client):
    response = client.get("/ping")
    assert response.status_code == 200
    assert response.get_json() == {"pong": True}


@pytest.mark.grade(points=1, hint="GET /lookup answers ok without any other service.")
def test_lookup_answers_ok(client):
    response = client.get("/lookup")
    assert response.status_code == 200
    assert response.get_json() == {"ok": True}
