"""Hidden graders of lab 01: reading the query string of GET /books."""

import pytest

BOOK = {"title": "Piranesi", "author": "Susanna Clarke", "year": 2020}


def body(response):
    """The response body as text, for assertion messages."""
    return response.text


def create(client, **fields):
    """POST a book (BOOK with ``fields`` changed) and return its JSON; the POST must succeed."""
    response = client.post("/books", json={**BOOK, **fields})
    assert response.status_code == 201, body(response)
    return response.get_json()


@pytest.mark.grade(
    points=2, hint="?q= keeps the books whose title contains the text, ignoring case."
)
def test_q_filters_titles_ignoring_case(client):
    create(client, title="The Quixotic Quokka")
    create(client, title="Another Title")
    response = client.get("/books?q=qUIXOTIC")
    assert response.status_code == 200, body(response)
    assert [book["title"] for book in response.get_json()] == ["The Quixotic Quokka"], body(
        response
    )


@pytest.mark.grade(points=1, hint="?q= matches any part of the title, not only its start.")
def test_q_matches_the_middle_of_a_title(client):
    create(client, title="Songs of the Xylophone Sea")
    response = client.get("/books?q=xylophone")
    assert [book["title"] for book in response.get_json()] == ["Songs of the Xylophone Sea"], body(
        response
    )


@pytest.mark.grade(points=1, hint="A search that matches nothing answers 200 with an empty list.")
def test_q_without_match_is_an_empty_list(client):
    create(client)
    response = client.get("/books?q=no-title-contains-this")
    assert response.status_code == 200, body(response)
    assert response.get_json() == [], body(response)


@pytest.mark.grade(points=1, hint="?limit=N returns at most N books.")
def test_limit_caps_the_number_of_books(client):
    create(client, title="Limit One")
    create(client, title="Limit Two")
    create(client, title="Limit Three")
    response = client.get("/books?limit=2")
    assert response.status_code == 200, body(response)
    assert len(response.get_json()) == 2, body(response)


@pytest.mark.grade(
    points=1, hint="A limit that is not a number is ignored (request.args.get(..., type=int))."
)
def test_limit_that_is_not_a_number_is_ignored(client):
    create(client, title="Kept One")
    create(client, title="Kept Two")
    everything = client.get("/books").get_json()
    response = client.get("/books?limit=many")
    assert response.status_code == 200, body(response)
    assert response.get_json() == everything, body(response)


@pytest.mark.grade(points=1, hint="?q= ignores spaces around the text (strip it before searching).")
def test_q_ignores_surrounding_spaces(client):
    create(client, title="The Quiet Quokka")
    response = client.get("/books", query_string={"q": "  quiet quokka  "})
    assert response.status_code == 200, body(response)
    assert [book["title"] for book in response.get_json()] == ["The Quiet Quokka"], body(response)


@pytest.mark.grade(points=1, hint="?limit=0 returns an empty list: at most zero books.")
def test_limit_zero_gives_an_empty_list(client):
    create(client, title="Not Shown")
    response = client.get("/books?limit=0")
    assert response.status_code == 200, body(response)
    assert response.get_json() == [], body(response)


@pytest.mark.grade(
    points=1, hint="A negative ?limit= is ignored like a limit that is not a number: every book."
)
def test_negative_limit_is_ignored(client):
    create(client, title="Still Shown")
    everything = client.get("/books").get_json()
    for limit in ("-1", "-2"):
        response = client.get(f"/books?limit={limit}")
        assert response.status_code == 200, body(response)
        assert response.get_json() == everything, (limit, body(response))
