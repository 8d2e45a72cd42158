"""Hidden graders of lab 08: what the schemas dump (the shapes the API answers with).

A librarian shelves books and a reader reviews them through the API, logged in as in lab 06.
Each test reads one kind of answer: the exact keys of nested objects, the lists without their
nested details, and no field a client must not see.
"""

import pytest

# A cheap hash keeps the log-ins of these tests fast.
pytestmark = pytest.mark.app_config(PASSWORD_HASH_METHOD="pbkdf2:sha256:1000")

LIBRARIAN = ("libby", "libby-shelves-books")
READER = ("rita", "rita-reads-a-lot")
BOOK_KEYS = {"id", "title", "author", "author_id", "year", "isbn"}
REVIEW_KEYS = {"id", "book_id", "user_id", "username", "rating", "body"}
AUTHOR_KEYS = {"id", "name", "bio", "book_count"}


def body(response):
    """The response body as text, for assertion messages."""
    return response.text[:600]


def log_in_as_librarian(client, runner):
    """Create the librarian with `flask create-user` and log in as them."""
    name, password = LIBRARIAN
    result = runner.invoke(
        args=["create-user", name, "--role", "librarian"], input=f"{password}\n{password}\n"
    )
    assert result.exit_code == 0, f"flask create-user {name}: {result.output}"
    response = client.post("/auth/login", json={"username": name, "password": password})
    assert response.status_code == 200, f"login of {name}: {body(response)}"


def sign_up_reader(client):
    """Sign the reader up (which logs them in) and return their id."""
    name, password = READER
    client.post("/auth/logout")
    response = client.post("/auth/signup", json={"username": name, "password": password})
    assert response.status_code == 201, f"signup of {name}: {body(response)}"
    return response.get_json()["id"]


def created(response, what):
    """The JSON of a successful create, failing with the body otherwise."""
    assert response.status_code == 201, f"creating {what}: {response.status_code} {body(response)}"
    return response.get_json()


def shelve(client, runner):
    """Two books by one author, shelved by the librarian; returns (author, first, second)."""
    log_in_as_librarian(client, runner)
    author = created(client.post("/authors", json={"name": "Ursula K. Le Guin"}), "an author")
    first = created(
        client.post("/books", json={"title": "The Dispossessed", "author_id": author["id"]}),
        "a book",
    )
    second = created(
        client.post("/books", json={"title": "Lavinia", "author": "Ursula K. Le Guin"}), "a book"
    )
    return author, first, second


@pytest.mark.grade(
    points=3,
    hint="ReviewSchema nests the book: book = fields.Nested(lambda: BookSchema(only=('id', "
    "'title', 'author')), dump_only=True); every review answer (POST, GET one, GET list) uses it.",
)
def test_every_review_answer_nests_its_book(client, runner):
    _, book, _ = shelve(client, runner)
    sign_up_reader(client)
    review = created(
        client.post("/reviews", json={"book_id": book["id"], "rating": 5, "body": "Anarres."}),
        "a review",
    )
    expected = {"id": book["id"], "title": "The Dispossessed", "author": "Ursula K. Le Guin"}
    assert review.get("book") == expected, f"POST /reviews answered {review}"
    one = client.get(f"/reviews/{review['id']}").get_json()
    assert one.get("book") == expected, f"GET /reviews/{review['id']} answered {one}"
    listed = client.get("/reviews").get_json()
    assert [item.get("book") for item in listed] == [expected], f"GET /reviews answered {listed}"
    assert set(one) == REVIEW_KEYS | {"book"}, f"a review has exactly {REVIEW_KEYS | {'book'}}"
    assert (one["username"], one["rating"], one["body"]) == ("rita", 5, "Anarres."), one


@pytest.mark.grade(
    points=3,
    hint="GET /books/<id> dumps BookSchema() with reviews = List(Nested(ReviewSchema(exclude="
    "('book',)))): each review is id, book_id, user_id, username, rating, body. GET /books "
    "lists books without reviews (exclude=('reviews',)).",
)
def test_book_detail_nests_its_reviews_and_the_list_does_not(client, runner):
    _, book, other = shelve(client, runner)
    reader_id = sign_up_reader(client)
    client.post("/reviews", json={"book_id": book["id"], "rating": 4})
    detail = client.get(f"/books/{book['id']}")
    assert detail.status_code == 200, body(detail)
    data = detail.get_json()
    assert set(data) == BOOK_KEYS | {"reviews"}, f"the book detail has these keys: {data}"
    assert data["author"] == "Ursula K. Le Guin", f"author stays the author's name: {data}"
    reviews = data["reviews"]
    assert isinstance(reviews, list) and len(reviews) == 1, f"one review expected: {data}"
    assert set(reviews[0]) == REVIEW_KEYS, f"a nested review has exactly {REVIEW_KEYS}: {data}"
    assert (reviews[0]["user_id"], reviews[0]["username"]) == (reader_id, "rita"), data
    assert reviews[0]["body"] == "", f"a review sent without a body has the body '': {data}"
    unreviewed = client.get(f"/books/{other['id']}").get_json()
    assert unreviewed.get("reviews") == [], f"a book nobody reviewed has reviews []: {unreviewed}"
    listed = client.get("/books").get_json()
    assert [set(item) for item in listed] == [BOOK_KEYS, BOOK_KEYS], f"GET /books: {listed}"
    by_author = client.get("/books/author/ursula k. le guin").get_json()
    assert [set(item) for item in by_author] == [BOOK_KEYS, BOOK_KEYS], by_author


@pytest.mark.grade(
    points=3,
    hint="AuthorSchema: book_count = fields.Method('count_books', dump_only=True); books = "
    "List(Nested(lambda: BookSchema(exclude=('reviews',))), dump_only=True); GET /authors "
    "lists them with exclude=('books',).",
)
def test_authors_show_their_book_count_and_the_detail_nests_books(client, runner):
    author, first, second = shelve(client, runner)
    spare = created(client.post("/authors", json={"name": "Spare Writer", "bio": "B."}), "author")
    assert spare.get("book_count") == 0, f"POST /authors answered {spare}"
    listed = client.get("/authors").get_json()
    counts = {item.get("name"): item.get("book_count") for item in listed}
    assert counts == {"Spare Writer": 0, "Ursula K. Le Guin": 2}, f"GET /authors: {listed}"
    assert all(set(item) == AUTHOR_KEYS for item in listed), f"GET /authors: {listed}"
    detail = client.get(f"/authors/{author['id']}").get_json()
    assert set(detail) == AUTHOR_KEYS | {"books"}, f"GET /authors/<id>: {detail}"
    assert [book.get("id") for book in detail["books"]] == [first["id"], second["id"]], detail
    assert all(set(book) == BOOK_KEYS for book in detail["books"]), f"nested books: {detail}"


@pytest.mark.grade(
    points=2,
    hint="Nested users show only what UserSchema dumps: a review names its writer by user_id and "
    "username; no password hash, no role, no user object reaches a review or a book.",
)
def test_nested_reviews_never_show_the_writer_beyond_name_and_id(client, runner):
    _, book, _ = shelve(client, runner)
    sign_up_reader(client)
    client.post("/reviews", json={"book_id": book["id"], "rating": 3, "body": "Fine."})
    answers = [
        client.get(f"/books/{book['id']}").text,
        client.get("/reviews").text,
        client.get(f"/reviews?book_id={book['id']}").text,
    ]
    for text in answers:
        for secret in ("password", "pbkdf2", "scrypt", '"role"', '"user":'):
            assert secret not in text, f"{secret} appears in an answer: {text[:600]}"
    nested = client.get(f"/books/{book['id']}").get_json().get("reviews") or [{}]
    assert nested[0].get("username") == "rita", f"the nested review names rita: {nested}"
