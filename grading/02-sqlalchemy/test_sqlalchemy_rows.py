"""Hidden graders of lab 02: what a row gives back itself, its ``to_dict()`` and the read-only
relationships ``Book.reviewers`` and ``User.reviewed_books``.

Rows are created with the CRUD helpers; ``call.method`` and ``call.attribute`` then reach the
row itself inside the student's app. A ``to_dict()`` must hold the keys below with these values;
later labs add keys of their own, so more keys are allowed.
"""

import pytest


def assert_has(found, expected):
    """``found`` (a dict) holds every key of ``expected`` with the same value."""
    assert isinstance(found, dict), found
    held = {key: found.get(key, "<missing>") for key in expected}
    assert held == expected, found


def shelf(call, model_ref):
    """Two authors, three books, two users and three reviews; return references by name."""
    refs = {}
    le_guin = call("crud.create_author", "Ursula K. Le Guin", "Wrote Earthsea.")
    refs["le_guin"] = model_ref("Author", le_guin["id"])
    refs["jemisin"] = model_ref("Author", call("crud.create_author", "N. K. Jemisin")["id"])
    for key, title, author, year in (
        ("earthsea", "A Wizard of Earthsea", "le_guin", 1968),
        ("dispossessed", "The Dispossessed", "le_guin", 1974),
        ("fifth", "The Fifth Season", "jemisin", None),
    ):
        book = call("crud.create_book", title, refs[author], year)
        refs[key] = model_ref("Book", book["id"])
    refs["ann"] = model_ref("User", call("crud.create_user", "ann")["id"])
    refs["bo"] = model_ref("User", call("crud.create_user", "bo")["id"])
    for key, user, book, rating, body in (
        ("ann_earthsea", "ann", "earthsea", 5, "A classic."),
        ("bo_earthsea", "bo", "earthsea", 3, ""),
        ("ann_fifth", "ann", "fifth", 4, "Stunning."),
    ):
        review = call("crud.add_review", refs[user], refs[book], rating, body)
        refs[key] = model_ref("Review", review["id"])
    return refs


@pytest.mark.grade(
    points=1,
    hint='Author.to_dict() returns {"id": ..., "name": ..., "bio": ...}, '
    "with the row's own values (bio may be None).",
)
def test_author_to_dict_has_id_name_and_bio(call, model_ref):
    refs = shelf(call, model_ref)
    found = call.method(refs["le_guin"], "to_dict")
    expected = {"id": refs["le_guin"]["id"], "name": "Ursula K. Le Guin", "bio": "Wrote Earthsea."}
    assert_has(found, expected)
    found = call.method(refs["jemisin"], "to_dict")
    assert_has(found, {"id": refs["jemisin"]["id"], "name": "N. K. Jemisin", "bio": None})


@pytest.mark.grade(
    points=2,
    hint='Book.to_dict() returns {"id", "title", "author", "author_id", "year"}: '
    '"author" is the author\'s name (self.author.name), "author_id" the number.',
)
def test_book_to_dict_names_its_author(call, model_ref):
    refs = shelf(call, model_ref)
    found = call.method(refs["dispossessed"], "to_dict")
    assert_has(
        found,
        {
            "id": refs["dispossessed"]["id"],
            "title": "The Dispossessed",
            "author": "Ursula K. Le Guin",
            "author_id": refs["le_guin"]["id"],
            "year": 1974,
        },
    )
    found = call.method(refs["fifth"], "to_dict")
    assert_has(
        found,
        {
            "id": refs["fifth"]["id"],
            "title": "The Fifth Season",
            "author": "N. K. Jemisin",
            "author_id": refs["jemisin"]["id"],
            "year": None,
        },
    )


@pytest.mark.grade(
    points=1, hint='User.to_dict() returns {"id": ..., "username": ...} with the row\'s values.'
)
def test_user_to_dict_has_id_and_username(call, model_ref):
    refs = shelf(call, model_ref)
    for key, username in (("ann", "ann"), ("bo", "bo")):
        found = call.method(refs[key], "to_dict")
        assert_has(found, {"id": refs[key]["id"], "username": username})


@pytest.mark.grade(
    points=2,
    hint='Review.to_dict() returns {"id", "book_id", "user_id", "username", "rating", '
    '"body"}: "username" is the reviewer\'s name (self.user.username).',
)
def test_review_to_dict_names_its_book_and_user(call, model_ref):
    refs = shelf(call, model_ref)
    for key, book, user, username, rating, body in (
        ("ann_earthsea", "earthsea", "ann", "ann", 5, "A classic."),
        ("bo_earthsea", "earthsea", "bo", "bo", 3, ""),
        ("ann_fifth", "fifth", "ann", "ann", 4, "Stunning."),
    ):
        found = call.method(refs[key], "to_dict")
        assert_has(
            found,
            {
                "id": refs[key]["id"],
                "book_id": refs[book]["id"],
                "user_id": refs[user]["id"],
                "username": username,
                "rating": rating,
                "body": body,
            },
        )


@pytest.mark.grade(
    points=1,
    hint="Book.reviewers lists the users who reviewed the book: "
    'relationship(secondary="reviews", viewonly=True).',
)
def test_book_reviewers_are_the_users_who_reviewed_it(call, model_ref):
    refs = shelf(call, model_ref)

    def reviewers(book):
        return sorted(user["username"] for user in call.attribute(refs[book], "reviewers"))

    assert reviewers("earthsea") == ["ann", "bo"], call.attribute(refs["earthsea"], "reviewers")
    assert reviewers("fifth") == ["ann"], call.attribute(refs["fifth"], "reviewers")
    assert reviewers("dispossessed") == [], call.attribute(refs["dispossessed"], "reviewers")


@pytest.mark.grade(
    points=1,
    hint="User.reviewed_books lists the books the user reviewed: "
    'relationship(secondary="reviews", viewonly=True).',
)
def test_user_reviewed_books_are_the_books_they_reviewed(call, model_ref):
    refs = shelf(call, model_ref)

    def reviewed(user):
        return sorted(book["title"] for book in call.attribute(refs[user], "reviewed_books"))

    assert reviewed("ann") == ["A Wizard of Earthsea", "The Fifth Season"], call.attribute(
        refs["ann"], "reviewed_books"
    )
    assert reviewed("bo") == ["A Wizard of Earthsea"], call.attribute(refs["bo"], "reviewed_books")
    lonely = model_ref("User", call("crud.create_user", "nobody-yet")["id"])
    assert call.attribute(lonely, "reviewed_books") == []


@pytest.mark.grade(
    points=1,
    hint="Author.books, Book.reviews and User.reviews list the related rows, in id order "
    '(order_by="Book.id" / "Review.id").',
)
def test_one_to_many_relationships_list_rows_in_id_order(call, model_ref):
    refs = shelf(call, model_ref)
    books = call.attribute(refs["le_guin"], "books")
    assert [b["title"] for b in books] == ["A Wizard of Earthsea", "The Dispossessed"], books
    reviews = call.attribute(refs["earthsea"], "reviews")
    assert [r["id"] for r in reviews] == [refs["ann_earthsea"]["id"], refs["bo_earthsea"]["id"]]
    reviews = call.attribute(refs["ann"], "reviews")
    assert [r["id"] for r in reviews] == [refs["ann_earthsea"]["id"], refs["ann_fifth"]["id"]]
    assert call.attribute(refs["ann_fifth"], "book")["title"] == "The Fifth Season"
    assert call.attribute(refs["ann_fifth"], "user")["username"] == "ann"
