"""Hidden graders of lab 09: collections one page at a time.

``GET /books?page=2&per_page=2`` answers a JSON array (the page) with an RFC 8288 ``Link`` header
(first, prev, next, last) and ``X-Total-Count``. The books here are shelved with
``LOGIN_DISABLED`` set, so no log-in is needed; the pages are the same for everybody.
"""

import re
from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.app_config(LOGIN_DISABLED=True)

PROBLEM = "application/problem+json"
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20
LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?([^";,]+)"?')


def body(response):
    """The response body as text, for assertion messages."""
    return response.text


def shelve(client, titles):
    """Create one book per title (by one author) and return their ids in order."""
    ids = []
    for title in titles:
        response = client.post("/books", json={"title": title, "author": "Many Hands"})
        assert response.status_code == 201, f"creating {title}: {body(response)}"
        ids.append(response.get_json()["id"])
    return ids


def page_links(response):
    """The Link header as {relation: (path, {argument: value})}."""
    header = response.headers.get("Link", "")
    assert header, f"no Link header (headers: {dict(response.headers)}): {body(response)}"
    links = {}
    for url, relation in LINK.findall(header):
        parts = urlsplit(url)
        arguments = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        links[relation] = (parts.path, arguments)
    return links


def page_of(links, relation):
    """The page and per_page a relation of the Link header points at, as numbers."""
    assert relation in links, f"no {relation!r} in the Link header: {links}"
    _, arguments = links[relation]
    return int(arguments.get("page", 0)), int(arguments.get("per_page", 0))


def get_page(client, url):
    """GET one page; it must be a 200 JSON array."""
    response = client.get(url)
    assert response.status_code == 200, f"GET {url}: {body(response)}"
    assert isinstance(response.get_json(), list), f"GET {url}: {body(response)}"
    return response


@pytest.mark.grade(
    points=3,
    hint="Page 1 of 3: first, next and last in the Link header, no prev; page 2: prev and next; "
    "page 3: prev and no next (has_prev/has_next of db.paginate).",
)
def test_link_header_has_first_prev_next_last_at_the_boundaries(client):
    ids = shelve(client, [f"Book {number}" for number in range(1, 6)])
    first = get_page(client, "/books?page=1&per_page=2")
    assert [book["id"] for book in first.get_json()] == ids[:2], body(first)
    links = page_links(first)
    assert "prev" not in links, f"page 1 has no prev: {links}"
    assert page_of(links, "first") == (1, 2) and page_of(links, "next") == (2, 2), links
    assert page_of(links, "last") == (3, 2), links
    links = page_links(get_page(client, "/books?page=2&per_page=2"))
    assert page_of(links, "prev") == (1, 2) and page_of(links, "next") == (3, 2), links
    last = get_page(client, "/books?page=3&per_page=2")
    assert [book["id"] for book in last.get_json()] == ids[4:], body(last)
    links = page_links(last)
    assert "next" not in links, f"the last page has no next: {links}"
    assert page_of(links, "prev") == (2, 2) and page_of(links, "last") == (3, 2), links


@pytest.mark.grade(
    points=2,
    hint="Following next from page 1 must visit every book exactly once, in order; the links "
    "keep the other query arguments such as ?q=.",
)
def test_following_next_visits_every_matching_book_once(client):
    ids = shelve(client, ["Sea One", "Land", "Sea Two", "Sea Three", "Sky"])
    seen, url = [], "/books?q=sea&per_page=1"
    for _ in range(10):
        response = get_page(client, url)
        seen += [book["id"] for book in response.get_json()]
        links = page_links(response)
        if "next" not in links:
            break
        path, arguments = links["next"]
        url = path + "?" + "&".join(f"{name}={value}" for name, value in arguments.items())
    assert seen == [ids[0], ids[2], ids[3]], f"visited {seen}"


@pytest.mark.grade(
    points=2,
    hint="X-Total-Count is the number of rows in the whole collection (pagination.total), not "
    "on the page.",
)
def test_total_count_counts_the_whole_collection(client):
    shelve(client, [f"Counted {number}" for number in range(7)])
    response = get_page(client, "/books?per_page=3")
    assert len(response.get_json()) == 3, body(response)
    assert response.headers.get("X-Total-Count") == "7", dict(response.headers)


@pytest.mark.grade(
    points=2,
    hint="Without ?per_page= a page holds 20 rows; ?per_page= above 100 is capped at 100 "
    "(db.paginate(..., max_per_page=100)) and the links carry the real size.",
)
def test_page_size_has_a_default_and_a_cap(client):
    shelve(client, [f"Volume {number}" for number in range(MAX_PER_PAGE + 3)])
    response = get_page(client, "/books")
    assert len(response.get_json()) == DEFAULT_PER_PAGE, f"{len(response.get_json())} books"
    response = get_page(client, "/books?per_page=100000")
    assert len(response.get_json()) == MAX_PER_PAGE, f"{len(response.get_json())} books"
    links = page_links(response)
    assert page_of(links, "next") == (2, MAX_PER_PAGE), links
    assert page_of(links, "last") == (2, MAX_PER_PAGE), links
    assert response.headers.get("X-Total-Count") == str(MAX_PER_PAGE + 3), dict(response.headers)


@pytest.mark.grade(
    points=1,
    hint="An empty collection still has page 1: an empty array, first and last both page 1, "
    "no prev or next.",
)
def test_an_empty_collection_has_one_empty_page(client):
    response = get_page(client, "/books?per_page=5")
    assert response.get_json() == [], body(response)
    links = page_links(response)
    assert page_of(links, "first") == (1, 5) and page_of(links, "last") == (1, 5), links
    assert "prev" not in links and "next" not in links, links
    assert response.headers.get("X-Total-Count") == "0", dict(response.headers)


@pytest.mark.grade(
    points=1,
    hint="/authors and /reviews paginate like /books: a Link header and X-Total-Count.",
)
def test_authors_and_reviews_are_paginated_too(client):
    for name in ("Ann", "Bo", "Cy"):
        response = client.post("/authors", json={"name": name})
        assert response.status_code == 201, body(response)
    response = get_page(client, "/authors?per_page=2")
    assert [author["name"] for author in response.get_json()] == ["Ann", "Bo"], body(response)
    assert page_of(page_links(response), "next") == (2, 2), response.headers.get("Link")
    assert response.headers.get("X-Total-Count") == "3", dict(response.headers)
    response = get_page(client, "/reviews?per_page=2")
    assert page_of(page_links(response), "last") == (1, 2), response.headers.get("Link")


BAD_PAGES = [
    "page=0",
    "page=-1",
    "page=two",
    "page=1.5",
    "per_page=0",
    "per_page=-5",
    "per_page=many",
    "page=99999999999999999999999",
    "page=",
]


@pytest.mark.grade(
    points=1,
    hint="?page= and ?per_page= must be whole numbers from 1: anything else is a 400 problem "
    "(never a 500, never a silent default).",
)
@pytest.mark.parametrize("query", BAD_PAGES)
def test_bad_page_arguments_are_a_400_problem(client, query):
    shelve(client, ["Only Book"])
    response = client.get(f"/books?{query}")
    assert response.status_code == 400, f"GET /books?{query}: {body(response)}"
    assert response.mimetype == PROBLEM, f"GET /books?{query}: {response.mimetype}"
    assert response.get_json().get("status") == 400, body(response)


@pytest.mark.grade(
    points=1,
    hint="A page after the last one is a 404 problem whose detail names the last page (page 1 "
    "in an empty collection), not an empty 200: check page > max(pagination.pages, 1) yourself.",
)
def test_a_page_after_the_last_is_a_404_problem(client):
    for url, last in (("/books?page=2&per_page=5", 1), ("/books?page=3&per_page=2", 2)):
        if last == 2:
            shelve(client, ["One", "Two", "Three"])
        response = client.get(url)
        assert response.status_code == 404, f"GET {url}: {body(response)}"
        assert response.mimetype == PROBLEM, f"GET {url}: {response.mimetype}"
        detail = str(response.get_json().get("detail", ""))
        assert re.search(rf"\b{last}\b", detail), (
            f"GET {url}: the detail should name the last page, {last}: {body(response)}"
        )
