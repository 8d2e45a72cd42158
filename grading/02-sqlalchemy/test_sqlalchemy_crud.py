"""Hidden graders of lab 02: the CRUD helpers in bookshelf/crud.py.

Each helper is called with ``call`` (its own application context, so its own session); what it
stored is then read from the database with the grader's own SQL.
"""

import pytest


def new_author(call, model_ref, name, bio=None):
    """Create an author through the helper and return a reference to its row."""
    return model_ref("Author", call("crud.create_author", name, bio)["id"])


def new_book(call, model_ref, title, author, year=None):
    """Create a book through the helper and return a reference to its row."""
    return model_ref("Book", call("crud.create_book", title, author, year)["id"])


def new_user(call, model_ref, username):
    """Create a user through the helper and return a reference to its row."""
    return model_ref("User", call("crud.create_user", username)["id"])


@pytest.mark.grade(
    points=1, hint="create_author adds the author, commits, and returns it with an id."
)
def test_create_author_is_saved(call, database):
    author = call("crud.create_author", "Ann Leckie", "Wrote Ancillary Justice.")
    assert author["__model__"] == "Author" and isinstance(author["id"], int), author
    stored = database.one("SELECT name, bio FROM authors WHERE id = ?", (author["id"],))
    assert stored == {"name": "Ann Leckie", "bio": "Wrote Ancillary Justice."}, stored
    again = call("crud.get_author", author["id"])
    assert (again["name"], again["bio"]) == ("Ann Leckie", "Wrote Ancillary Justice."), again


@pytest.mark.grade(
    points=1, hint="get_author (and get_book, get_user, get_review) return None for an unknown id."
)
def test_get_helpers_return_none_for_unknown_ids(call):
    for helper in ("crud.get_author", "crud.get_book", "crud.get_user", "crud.get_review"):
        assert call(helper, 999) is None, helper


@pytest.mark.grade(
    points=1, hint="find_author and find_user look a row up by its exact name, or return None."
)
def test_find_author_and_user_by_name(call):
    call("crud.create_author", "N. K. Jemisin")
    call("crud.create_author", "N. K. Jemisin's Editor")
    call("crud.create_user", "sam")
    call("crud.create_user", "samantha")
    assert call("crud.find_author", "N. K. Jemisin")["name"] == "N. K. Jemisin"
    assert call("crud.find_author", "Nobody") is None
    assert call("crud.find_user", "sam")["username"] == "sam"
    assert call("crud.find_user", "samantha")["username"] == "samantha"
    assert call("crud.find_user", "nobody") is None


@pytest.mark.grade(points=1, hint="list_authors returns every author sorted by name.")
def test_list_authors_is_sorted_by_name(call):
    for name in ("Zadie Smith", "Alice Munro", "Mo Yan"):
        call("crud.create_author", name)
    names = [a["name"] for a in call("crud.list_authors")]
    assert names == ["Alice Munro", "Mo Yan", "Zadie Smith"], names


@pytest.mark.grade(
    points=2,
    hint="update_author changes only the fields it is given (name, bio) and commits.",
)
def test_update_author_changes_only_given_fields(call, database, model_ref):
    author = new_author(call, model_ref, "Kept Name", "Old bio.")
    other = new_author(call, model_ref, "Other Name", "Other bio.")
    changed = call("crud.update_author", author, bio="New bio.")
    assert (changed["name"], changed["bio"]) == ("Kept Name", "New bio."), changed
    stored = database.rows("SELECT id, name, bio FROM authors ORDER BY id")
    assert stored == [
        {"id": author["id"], "name": "Kept Name", "bio": "New bio."},
        {"id": other["id"], "name": "Other Name", "bio": "Other bio."},
    ], stored
    changed = call("crud.update_author", author, name="New Name")
    assert (changed["name"], changed["bio"]) == ("New Name", "New bio."), changed
    stored = database.rows("SELECT id, name, bio FROM authors ORDER BY id")
    assert stored == [
        {"id": author["id"], "name": "New Name", "bio": "New bio."},
        {"id": other["id"], "name": "Other Name", "bio": "Other bio."},
    ], stored


@pytest.mark.grade(
    points=1,
    hint="Updating a field a model does not allow should raise TypeError (see apply_changes).",
)
def test_update_helpers_refuse_unknown_fields(call, database, model_ref, student_error):
    author = new_author(call, model_ref, "Strict Author")
    with pytest.raises(student_error) as raised:
        call("crud.update_author", author, id=77)
    assert raised.value.is_a("TypeError"), raised.value
    book = new_book(call, model_ref, "Strict Book", author)
    with pytest.raises(student_error) as raised:
        call("crud.update_book", book, rating=5)
    assert raised.value.is_a("TypeError"), raised.value
    review = call("crud.add_review", new_user(call, model_ref, "strict"), book, 3)
    with pytest.raises(student_error) as raised:
        call("crud.update_review", model_ref("Review", review["id"]), book_id=1)
    assert raised.value.is_a("TypeError"), raised.value
    assert database.scalar("SELECT count(*) FROM authors WHERE id = 77") == 0


@pytest.mark.grade(
    points=2, hint="Deleting an author must delete their books and those books' reviews (cascade)."
)
def test_delete_author_cascades_to_books_and_reviews(call, database, model_ref):
    author = new_author(call, model_ref, "Doomed Author")
    other = new_book(call, model_ref, "Survivor", new_author(call, model_ref, "Other Author"))
    book = new_book(call, model_ref, "Doomed Book", author)
    user = new_user(call, model_ref, "witness")
    call("crud.add_review", user, book, 3)
    call("crud.add_review", user, other, 4)
    call("crud.delete_author", author)
    assert database.rows("SELECT name FROM authors") == [{"name": "Other Author"}]
    assert [b["title"] for b in call("crud.list_books")] == ["Survivor"]
    assert database.rows("SELECT book_id FROM reviews") == [{"book_id": other["id"]}]
    assert database.scalar("SELECT count(*) FROM users") == 1


@pytest.mark.grade(
    points=1, hint="create_book links the book to its author; get_book reads it back."
)
def test_create_book_and_get_it_back(call, database, model_ref):
    author = new_author(call, model_ref, "Kazuo Ishiguro")
    book = call("crud.create_book", "Klara and the Sun", author, 2021)
    assert book["__model__"] == "Book", book
    stored = database.one(
        "SELECT books.title, books.year, authors.name FROM books "
        "JOIN authors ON authors.id = books.author_id WHERE books.id = ?",
        (book["id"],),
    )
    assert stored == {"title": "Klara and the Sun", "year": 2021, "name": "Kazuo Ishiguro"}, stored
    again = call("crud.get_book", book["id"])
    assert (again["title"], again["year"], again["author_id"]) == (
        "Klara and the Sun",
        2021,
        author["id"],
    ), again


@pytest.mark.grade(
    points=1, hint="A book's year is optional: create_book(title, author) works without it."
)
def test_create_book_without_year(call, database, model_ref):
    book = call("crud.create_book", "Undated", new_author(call, model_ref, "Anon"))
    assert book["id"] is not None and book["year"] is None, book
    assert database.scalar("SELECT year FROM books WHERE id = ?", (book["id"],)) is None


@pytest.mark.grade(
    points=2, hint="list_books sorts by id; title_contains filters titles ignoring case."
)
def test_list_books_sorts_and_filters_by_title(call, model_ref):
    author = new_author(call, model_ref, "Filter Author")
    for title in ("Moon Song", "Sun Song", "Moonrise", "100% Moon"):
        call("crud.create_book", title, author)

    def titles(**options):
        return [b["title"] for b in call("crud.list_books", **options)]

    assert titles() == ["Moon Song", "Sun Song", "Moonrise", "100% Moon"]
    assert titles(title_contains="MOON") == ["Moon Song", "Moonrise", "100% Moon"]
    assert titles(title_contains="nothing like this") == []
    assert titles(title_contains="0% M") == ["100% Moon"], "% and _ are plain characters"
    assert titles(title_contains="o%g") == [], "% is a plain character (autoescape=True)"
    assert titles(title_contains="n_s") == [], "_ is a plain character (autoescape=True)"


@pytest.mark.grade(
    points=1,
    hint="books_by_author_name returns a list (list(db.session.scalars(...))) of that author's "
    "books, comparing names in lower case, sorted by id.",
)
def test_books_by_author_name_returns_a_list_sorted_by_id(call, model_ref):
    le_guin = new_author(call, model_ref, "Ursula K. Le Guin")
    butler = new_author(call, model_ref, "Octavia E. Butler")
    for title, author in (
        ("The Dispossessed", le_guin),
        ("Kindred", butler),
        ("A Wizard of Earthsea", le_guin),
        ("Dawn", butler),
        ("The Lathe of Heaven", le_guin),
    ):
        call("crud.create_book", title, author)
    found = call("crud.books_by_author_name", "ursula k. LE GUIN")
    assert isinstance(found, list), found
    assert [book["title"] for book in found] == [
        "The Dispossessed",
        "A Wizard of Earthsea",
        "The Lathe of Heaven",
    ], found
    assert call("crud.books_by_author_name", "Nobody") == []


@pytest.mark.grade(
    points=2, hint="update_book can move a book to another author; both authors' lists follow."
)
def test_update_book_moves_it_to_another_author(call, database, model_ref):
    first = new_author(call, model_ref, "First")
    second = new_author(call, model_ref, "Second")
    book = new_book(call, model_ref, "Moving Book", first, 1999)
    call("crud.update_book", book, author=second)
    stored = database.one("SELECT title, year, author_id FROM books WHERE id = ?", (book["id"],))
    assert stored == {"title": "Moving Book", "year": 1999, "author_id": second["id"]}, stored
    call("crud.update_book", book, title="Moved Book", year=2000)
    stored = database.one("SELECT title, year, author_id FROM books WHERE id = ?", (book["id"],))
    assert stored == {"title": "Moved Book", "year": 2000, "author_id": second["id"]}, stored


@pytest.mark.grade(
    points=2, hint="Deleting a book deletes its reviews but keeps its author and the users."
)
def test_delete_book_deletes_its_reviews_only(call, database, model_ref):
    author = new_author(call, model_ref, "Keeper")
    book = new_book(call, model_ref, "Gone Book", author)
    kept = new_book(call, model_ref, "Kept Book", author)
    user = new_user(call, model_ref, "keeps")
    call("crud.add_review", user, book, 2, "meh")
    call("crud.add_review", user, kept, 5, "yes")
    call("crud.delete_book", book)
    assert database.rows("SELECT title FROM books") == [{"title": "Kept Book"}]
    assert database.rows("SELECT book_id FROM reviews") == [{"book_id": kept["id"]}]
    assert database.scalar("SELECT count(*) FROM authors") == 1
    assert database.scalar("SELECT count(*) FROM users") == 1


@pytest.mark.grade(
    points=2, hint="add_review stores rating and body; list_reviews filters by book and by user."
)
def test_add_review_and_list_by_book_and_user(call, database, model_ref):
    author = new_author(call, model_ref, "Reviewed")
    one, two = new_book(call, model_ref, "One", author), new_book(call, model_ref, "Two", author)
    ann, bo = new_user(call, model_ref, "ann"), new_user(call, model_ref, "bo")
    call("crud.add_review", ann, one, 5, "great")
    call("crud.add_review", bo, one, 3)
    call("crud.add_review", ann, two, 1, "no")
    stored = database.rows("SELECT user_id, book_id, rating, body FROM reviews ORDER BY id")
    assert [tuple(r.values()) for r in stored] == [
        (ann["id"], one["id"], 5, "great"),
        (bo["id"], one["id"], 3, ""),
        (ann["id"], two["id"], 1, "no"),
    ], stored

    def reviews(**options):
        return [(r["rating"], r["body"]) for r in call("crud.list_reviews", **options)]

    assert reviews(book=one) == [(5, "great"), (3, "")]
    assert reviews(user=ann) == [(5, "great"), (1, "no")]
    assert reviews(book=two, user=ann) == [(1, "no")]
    assert reviews(book=two, user=bo) == []
    assert len(reviews()) == 3


@pytest.mark.grade(
    points=1, hint="A second review of the same book by the same user raises IntegrityError."
)
def test_add_review_twice_raises_integrity_error(call, model_ref, student_error):
    book = new_book(call, model_ref, "Twice", new_author(call, model_ref, "Twice Author"))
    user = new_user(call, model_ref, "repeat")
    call("crud.add_review", user, book, 4)
    with pytest.raises(student_error) as raised:
        call("crud.add_review", user, book, 5)
    assert raised.value.is_a("IntegrityError"), raised.value
    assert [r["rating"] for r in call("crud.list_reviews")] == [4]


@pytest.mark.grade(
    points=1,
    hint="create_author with a taken name raises IntegrityError and leaves a usable session.",
)
def test_duplicate_author_raises_and_session_recovers(call, database, student_error):
    call("crud.create_author", "Unique Person")
    with pytest.raises(student_error) as raised:
        call("crud.create_author", "Unique Person")
    assert raised.value.is_a("IntegrityError"), raised.value
    assert [a["name"] for a in call("crud.list_authors")] == ["Unique Person"]
    assert database.scalar("SELECT count(*) FROM authors") == 1


@pytest.mark.grade(
    points=1, hint="update_review changes rating or body; delete_review removes only that review."
)
def test_update_and_delete_review(call, database, model_ref):
    book = new_book(call, model_ref, "Edited", new_author(call, model_ref, "Editor"))
    first = call("crud.add_review", new_user(call, model_ref, "u1"), book, 2, "first take")
    second = call("crud.add_review", new_user(call, model_ref, "u2"), book, 4)
    call("crud.update_review", model_ref("Review", first["id"]), rating=3)
    stored = database.one("SELECT rating, body FROM reviews WHERE id = ?", (first["id"],))
    assert stored == {"rating": 3, "body": "first take"}, stored
    call("crud.update_review", model_ref("Review", first["id"]), body="second take")
    stored = database.one("SELECT rating, body FROM reviews WHERE id = ?", (first["id"],))
    assert stored == {"rating": 3, "body": "second take"}, stored
    call("crud.delete_review", model_ref("Review", second["id"]))
    assert database.rows("SELECT id FROM reviews") == [{"id": first["id"]}]
    assert database.scalar("SELECT count(*) FROM books") == 1
    assert database.scalar("SELECT count(*) FROM users") == 2


@pytest.mark.grade(
    points=1, hint="average_rating is None without reviews, else the mean rating (func.avg)."
)
def test_average_rating(call, model_ref):
    author = new_author(call, model_ref, "Rater")
    book = new_book(call, model_ref, "Rated", author)
    other = new_book(call, model_ref, "Other", author)
    assert call("crud.average_rating", book) is None
    call("crud.add_review", new_user(call, model_ref, "r1"), book, 5)
    call("crud.add_review", new_user(call, model_ref, "r2"), book, 2)
    call("crud.add_review", new_user(call, model_ref, "r3"), other, 1)
    assert call("crud.average_rating", book) == pytest.approx(3.5)


@pytest.mark.grade(
    points=1, hint="update_author, update_book and update_review return the row they changed."
)
def test_update_helpers_return_the_changed_row(call, model_ref):
    author = new_author(call, model_ref, "Returner")
    book = new_book(call, model_ref, "Returned", author)
    review = call("crud.add_review", new_user(call, model_ref, "returns"), book, 3)
    changed = call("crud.update_author", author, bio="back again")
    assert (changed["__model__"], changed["id"], changed["bio"]) == (
        "Author",
        author["id"],
        "back again",
    ), changed
    changed = call("crud.update_book", book, title="Returned Twice")
    assert (changed["__model__"], changed["id"], changed["title"]) == (
        "Book",
        book["id"],
        "Returned Twice",
    ), changed
    changed = call("crud.update_review", model_ref("Review", review["id"]), rating=4)
    assert (changed["__model__"], changed["id"], changed["rating"]) == (
        "Review",
        review["id"],
        4,
    ), changed


@pytest.mark.grade(
    points=1,
    hint="Every helper that writes commits with save(): a rollback afterwards must not undo it.",
)
def test_writes_survive_a_rollback_because_they_are_committed(call, database, model_ref):
    # Each call runs in its own application context, whose session is rolled back when it
    # ends: only committed writes reach the database file.
    user = new_user(call, model_ref, "committed")
    assert database.scalar("SELECT username FROM users") == "committed"
    book = new_book(call, model_ref, "Kept", new_author(call, model_ref, "Kept Author"))
    review = call("crud.add_review", user, book, 5)
    assert database.scalar("SELECT count(*) FROM reviews") == 1
    call("crud.delete_review", model_ref("Review", review["id"]))
    assert database.scalar("SELECT count(*) FROM reviews") == 0
    call("crud.delete_book", book)
    assert database.scalar("SELECT count(*) FROM books") == 0


@pytest.mark.grade(
    points=1, hint="Usernames are unique: create_user with a taken username raises IntegrityError."
)
def test_duplicate_username_raises_integrity_error(call, database, student_error):
    assert frozenset({"username"}) in database.unique_column_sets("users"), database.rows(
        "PRAGMA index_list(users)"
    )
    call("crud.create_user", "only-once")
    with pytest.raises(student_error) as raised:
        call("crud.create_user", "only-once")
    assert raised.value.is_a("IntegrityError"), raised.value
    assert [u["username"] for u in database.rows("SELECT username FROM users")] == ["only-once"]


@pytest.mark.grade(
    points=1, hint="get_author, get_book, get_user and get_review return the row with that id."
)
def test_get_helpers_return_the_row_with_that_id(call, model_ref):
    author = new_author(call, model_ref, "Looked Up")
    book = new_book(call, model_ref, "Looked Up Book", author)
    user = new_user(call, model_ref, "looker")
    new_user(call, model_ref, "other looker")
    review = call("crud.add_review", user, book, 2, "found")
    found = {
        "Author": call("crud.get_author", author["id"]),
        "Book": call("crud.get_book", book["id"]),
        "User": call("crud.get_user", user["id"]),
        "Review": call("crud.get_review", review["id"]),
    }
    for model, row in found.items():
        assert row is not None and row["__model__"] == model, (model, row)
    assert found["Author"]["name"] == "Looked Up", found
    assert found["Book"]["title"] == "Looked Up Book", found
    assert found["User"]["username"] == "looker", found
    assert (found["Review"]["rating"], found["Review"]["body"]) == (2, "found"), found
