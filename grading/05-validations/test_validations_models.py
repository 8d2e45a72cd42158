"""Hidden graders of lab 05: the models check their own fields (@validates), whoever calls them.

These graders go around the API and call the helpers in ``crud.py`` directly, as a script or a
CLI command would. The model must still refuse a bad value with a ValueError whose message a
client could be shown, before anything reaches the database.
"""

import pytest


def refuses(call, student_error, helper, *args, **kwargs):
    """Call a helper that must raise ValueError; return the message of that error."""
    with pytest.raises(student_error) as raised:
        call(helper, *args, **kwargs)
    error = raised.value
    assert error.is_a("ValueError"), f"{helper} raised {error.type}, not a ValueError: {error}"
    assert not error.is_a("IntegrityError"), f"{helper} reached the database: {error}"
    assert error.message.strip() and "Traceback" not in error.message, error.message
    assert len(error.message) < 200, f"a message for a client, not a dump: {error.message!r}"
    return error.message


def count(database, table):
    """The number of rows in ``table``."""
    return database.scalar(f"SELECT count(*) FROM {table}")


@pytest.mark.grade(
    points=2,
    hint="@validates('name') on Author and @validates('username') on User: no blank names.",
)
def test_models_refuse_blank_names(call, student_error, database):
    for blank in ("", "   "):
        refuses(call, student_error, "crud.create_author", blank)
        refuses(call, student_error, "crud.create_user", blank)
    refuses(call, student_error, "crud.create_author", "x" * 201)
    assert count(database, "authors") == 0 and count(database, "users") == 0
    kept = call("crud.create_author", "  Padded Name  ")
    assert kept["name"] == "Padded Name", kept


@pytest.mark.grade(
    points=2, hint="@validates on Review: rating a whole number 1 to 5 (not True, 4.5), body text."
)
def test_model_refuses_ratings_outside_1_to_5(call, student_error, model_ref, database):
    author = call("crud.create_author", "Rated Author")
    book = call("crud.create_book", "Rated Book", model_ref("Author", author["id"]))
    user = call("crud.create_user", "rater")
    refs = (model_ref("User", user["id"]), model_ref("Book", book["id"]))
    for rating in (0, 6, 4.5, True, "5", None):
        message = refuses(call, student_error, "crud.add_review", *refs, rating)
        assert "rating" in message.lower() or "1" in message, message
    assert count(database, "reviews") == 0
    review = model_ref("Review", call("crud.add_review", *refs, 5, "Fine.")["id"])
    refuses(call, student_error, "crud.update_review", review, rating=9)
    refuses(call, student_error, "crud.update_review", review, body=["not", "text"])
    refuses(call, student_error, "crud.update_review", review, body="b" * 5001)
    assert database.one("SELECT rating, body FROM reviews") == {"rating": 5, "body": "Fine."}


@pytest.mark.grade(
    points=2, hint="@validates on Book: a non-blank title, a sensible year and a well-formed ISBN."
)
def test_model_refuses_bad_book_fields(call, student_error, model_ref, database):
    author = model_ref("Author", call("crud.create_author", "Book Author")["id"])
    refuses(call, student_error, "crud.create_book", " ", author)
    refuses(call, student_error, "crud.create_book", "t" * 301, author)
    refuses(call, student_error, "crud.create_book", "Too Old", author, 1200)
    refuses(call, student_error, "crud.create_book", "Too New", author, 9999)
    refuses(call, student_error, "crud.create_book", "Bad ISBN", author, isbn="12-34")
    assert count(database, "books") == 0
    book = call("crud.create_book", "Good", author, 1999, isbn="978-0-441-17271-9")
    assert (book["year"], book["isbn"]) == (1999, "9780441172719"), book


@pytest.mark.grade(
    points=2, hint="An update helper that gets a bad value raises ValueError and changes nothing."
)
def test_failed_updates_change_nothing(call, student_error, model_ref, database):
    author = model_ref("Author", call("crud.create_author", "Stable Author")["id"])
    book = call("crud.create_book", "Stable Title", author, 2001)
    ref = model_ref("Book", book["id"])
    refuses(call, student_error, "crud.update_book", ref, title="Fine Title", year=1000)
    refuses(call, student_error, "crud.update_book", ref, year=2002, title="")
    refuses(call, student_error, "crud.update_author", author, bio=["not", "text"])
    row = database.one("SELECT title, year FROM books")
    assert row == {"title": "Stable Title", "year": 2001}, row
    assert database.one("SELECT name, bio FROM authors") == {"name": "Stable Author", "bio": None}
