"""Hidden graders of lab 09: the action links each person sees, and that those actions work.

An action link names its method (``{"href": "/books/1", "method": "PATCH"}``) and is there only
when the current user may take the action: the links show what the permission checks of lab 06
allow, no more and no less.
"""

from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.app_config(PASSWORD_HASH_METHOD="pbkdf2:sha256:1000")

PASSWORDS = {
    "rita": "rita-reads-a-lot",
    "otto": "otto-reads-too",
    "libby": "libby-shelves-books",
    "ada": "ada-runs-the-place",
}
ROLES = {"rita": "reader", "otto": "reader", "libby": "librarian", "ada": "admin"}
ACTIONS = ("edit", "delete", "create-review")


def body(response):
    """The response body as text, for assertion messages."""
    return response.text


def log_in_as(client, name):
    """End any session, then log in as ``name`` (None: stay anonymous)."""
    client.post("/auth/logout")
    if name is not None:
        response = client.post("/auth/login", json={"username": name, "password": PASSWORDS[name]})
        assert response.status_code == 200, f"login of {name}: {body(response)}"


def created(response, what):
    """The id of a row a setup request created."""
    assert response.status_code == 201, f"creating {what}: {body(response)}"
    return response.get_json()["id"]


def set_up_library(client, runner):
    """Four accounts; libby shelves a book by one author; rita reviews it. Returns the ids."""
    for name, role in ROLES.items():
        password = PASSWORDS[name]
        result = runner.invoke(
            args=["create-user", name, "--role", role], input=f"{password}\n{password}\n"
        )
        assert result.exit_code == 0, result.output
    log_in_as(client, "libby")
    ids = {"author": created(client.post("/authors", json={"name": "Kept Author"}), "author")}
    ids["book"] = created(
        client.post("/books", json={"title": "Shelved", "author_id": ids["author"]}), "book"
    )
    log_in_as(client, "rita")
    ids["review"] = created(
        client.post("/reviews", json={"book_id": ids["book"], "rating": 4}), "review"
    )
    ids["rita"] = client.get("/auth/me").get_json()["id"]
    return ids


def links_of(client, url):
    """The ``_links`` of the resource at ``url``, which must answer 200 with a self link."""
    response = client.get(url)
    assert response.status_code == 200, f"GET {url}: {body(response)}"
    links = response.get_json().get("_links") or {}
    assert "self" in links, f"GET {url}: no _links with self in {body(response)}"
    return links


def actions_seen(client, url):
    """The action links (those with a method) of the resource at ``url``, as {rel: method}."""
    return {
        relation: found["method"].upper()
        for relation, found in links_of(client, url).items()
        if isinstance(found, dict) and found.get("method")
    }


def links_seen(client, url):
    """Every link of the resource at ``url`` as {rel: (path, method or "GET")}."""
    seen = {}
    for relation, found in links_of(client, url).items():
        path = urlsplit(found.get("href", "")) if isinstance(found, dict) else None
        method = found.get("method", "GET").upper() if isinstance(found, dict) else None
        seen[relation] = (path and path.path + (f"?{path.query}" if path.query else ""), method)
    return seen


# (URL, person, the action links they must see as {relation: method}).
CASES = [
    ("/books/{book}", None, {}),
    ("/books/{book}", "rita", {"create-review": "POST"}),
    ("/books/{book}", "libby", {"edit": "PATCH", "delete": "DELETE", "create-review": "POST"}),
    ("/books/{book}", "ada", {"edit": "PATCH", "delete": "DELETE", "create-review": "POST"}),
    ("/authors/{author}", None, {}),
    ("/authors/{author}", "rita", {}),
    ("/authors/{author}", "libby", {"edit": "PATCH", "delete": "DELETE"}),
    ("/reviews/{review}", None, {}),
    ("/reviews/{review}", "rita", {"edit": "PATCH", "delete": "DELETE"}),
    ("/reviews/{review}", "otto", {}),
    ("/reviews/{review}", "libby", {}),
    ("/reviews/{review}", "ada", {"delete": "DELETE"}),
    ("/users/{rita}", "rita", {}),
    ("/users/{rita}", "ada", {"edit": "PATCH", "delete": "DELETE"}),
]


def cases():
    """One param per resource and person, with its points and hint."""
    for url, person, expected in CASES:
        who = person and f"{person} ({ROLES[person]})" or "nobody logged in"
        shown = ", ".join(f"{rel} ({method})" for rel, method in expected.items()) or "none"
        hint = f"GET {url.replace('{', '<').replace('}', '>')} as {who}: action links {shown}."
        yield pytest.param(
            url,
            person,
            expected,
            marks=pytest.mark.grade(points=1, hint=hint),
            id=f"{url} as {person or 'nobody'}",
        )


@pytest.mark.parametrize(("url", "person", "expected"), list(cases()))
def test_action_links_match_what_the_user_may_do(client, runner, url, person, expected):
    ids = set_up_library(client, runner)
    log_in_as(client, person)
    seen = actions_seen(client, url.format(**ids))
    assert seen == expected, f"GET {url.format(**ids)} as {person}: actions {seen}, not {expected}"


@pytest.mark.grade(
    points=2,
    hint="The edit and delete links of a book point at /books/<id> with PATCH and DELETE, so a "
    "librarian can send exactly that request.",
)
def test_a_librarian_can_follow_the_edit_and_delete_links(client, runner):
    ids = set_up_library(client, runner)
    log_in_as(client, "libby")
    links = client.get(f"/books/{ids['book']}").get_json().get("_links") or {}
    assert "edit" in links and "delete" in links, links
    edit = links["edit"]
    response = client.open(edit["href"], method=edit["method"], json={"year": 2001})
    assert response.status_code == 200, f"{edit}: {body(response)}"
    assert response.get_json()["year"] == 2001, body(response)
    delete = links["delete"]
    response = client.open(delete["href"], method=delete["method"])
    assert response.status_code == 204, f"{delete}: {body(response)}"
    assert client.get(f"/books/{ids['book']}").status_code == 404


@pytest.mark.grade(
    points=1,
    hint="A review's writer sees its edit link; following it with PATCH changes the rating.",
)
def test_the_writer_can_follow_the_edit_link_of_their_review(client, runner):
    ids = set_up_library(client, runner)
    log_in_as(client, "rita")
    links = client.get(f"/reviews/{ids['review']}").get_json().get("_links") or {}
    assert "edit" in links, links
    edit = links["edit"]
    response = client.open(edit["href"], method=edit["method"], json={"rating": 2})
    assert response.status_code == 200, body(response)
    assert response.get_json()["rating"] == 2, body(response)


# (URL, person, relation, (path, method) or None for "absent"): links that are not actions but
# still depend on who asks.
READABLE = [
    ("/reviews/{review}", "rita", "writer", ("/users/{rita}", "GET")),
    ("/reviews/{review}", "ada", "writer", ("/users/{rita}", "GET")),
    ("/reviews/{review}", "otto", "writer", None),
    ("/reviews/{review}", "libby", "writer", None),
    ("/reviews/{review}", None, "writer", None),
    ("/users/{rita}", "ada", "collection", ("/users", "GET")),
    ("/users/{rita}", "rita", "collection", None),
    ("/", "ada", "users", ("/users", "GET")),
    ("/", "libby", "users", None),
    ("/", "libby", "create-author", ("/authors", "POST")),
    ("/", "rita", "create-author", None),
]


@pytest.mark.grade(
    points=3,
    hint="Some links depend on who asks: a review's writer (/users/<user_id>) for its writer and "
    "admins; a user's collection (/users) and the root's users (/users) for admins; the root's "
    "create-author (POST /authors) for librarians.",
)
def test_links_that_depend_on_who_asks(client, runner):
    ids = set_up_library(client, runner)
    for url, person, relation, expected in READABLE:
        log_in_as(client, person)
        seen = links_seen(client, url.format(**ids)).get(relation)
        if expected is not None:
            expected = (expected[0].format(**ids), expected[1])
        assert seen == expected, (
            f"GET {url.format(**ids)} as {person or 'nobody'}: _links[{relation!r}] is "
            f"{seen}, expected {expected or 'no such link'}"
        )
