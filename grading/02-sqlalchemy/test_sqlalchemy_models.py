"""Hidden graders of lab 02: the models' tables, columns, relationships and constraints.

The schema is read from the database itself (``PRAGMA table_info`` and friends); behaviour goes
through the CRUD helpers with ``call``, and what they stored is read back with SQL.
"""

import pytest


def column(database, table, name):
    """The ``PRAGMA table_info`` row of one column, or None when the table lacks it."""
    return next((c for c in database.columns(table) if c["name"] == name), None)


def foreign_key(database, table, name):
    """The ``PRAGMA foreign_key_list`` row of the column ``name`` of ``table``, or None."""
    return next((fk for fk in database.foreign_keys(table) if fk["from"] == name), None)


@pytest.mark.grade(
    points=1, hint="Author needs a name and an optional bio column; commit and read it back."
)
def test_author_name_and_bio_are_stored(call, database):
    name, bio = column(database, "authors", "name"), column(database, "authors", "bio")
    assert name is not None and bio is not None, database.columns("authors")
    assert name["notnull"] == 1, "an author always has a name (Mapped[str], not str | None)"
    assert bio["notnull"] == 0, "the bio is optional (Mapped[str | None])"
    call("crud.create_author", "Mary Shelley", "Wrote Frankenstein.")
    stored = database.rows("SELECT name, bio FROM authors")
    assert stored == [{"name": "Mary Shelley", "bio": "Wrote Frankenstein."}], stored


@pytest.mark.grade(
    points=2, hint="Book.author and Author.books must use back_populates on both sides."
)
def test_book_author_and_author_books_back_populate(call, database, model_ref):
    first = call("crud.create_author", "Italo Calvino")
    second = call("crud.create_author", "Calvino's Translator")
    book = call("crud.create_book", "Invisible Cities", model_ref("Author", first["id"]), 1972)
    row = database.one("SELECT title, year, author_id FROM books WHERE id = ?", (book["id"],))
    assert row == {"title": "Invisible Cities", "year": 1972, "author_id": first["id"]}, row
    # Setting Book.author on an existing book moves its foreign key too.
    call(
        "crud.update_book", model_ref("Book", book["id"]), author=model_ref("Author", second["id"])
    )
    moved = database.scalar("SELECT author_id FROM books WHERE id = ?", (book["id"],))
    assert moved == second["id"], moved


@pytest.mark.grade(
    points=2,
    hint="Users and books meet through Review: user_id and book_id foreign keys, and "
    "reviewed_books / reviewers relationships with secondary.",
)
def test_reviews_link_users_and_books_many_to_many(call, database, model_ref):
    to_user, to_book = (
        foreign_key(database, "reviews", "user_id"),
        foreign_key(database, "reviews", "book_id"),
    )
    assert to_user is not None and (to_user["table"], to_user["to"]) == ("users", "id"), to_user
    assert to_book is not None and (to_book["table"], to_book["to"]) == ("books", "id"), to_book
    author = model_ref("Author", call("crud.create_author", "Ted Chiang")["id"])
    story = call("crud.create_book", "Stories", author)["id"]
    exhalation = call("crud.create_book", "Exhalation", author)["id"]
    ann, bo = call("crud.create_user", "ann")["id"], call("crud.create_user", "bo")["id"]
    for user, book, rating in ((ann, story, 5), (ann, exhalation, 4), (bo, story, 3)):
        call("crud.add_review", model_ref("User", user), model_ref("Book", book), rating)
    titles = database.rows(
        "SELECT books.title FROM reviews JOIN books ON books.id = reviews.book_id "
        "WHERE reviews.user_id = ? ORDER BY books.title",
        (ann,),
    )
    assert [r["title"] for r in titles] == ["Exhalation", "Stories"], titles
    readers = database.rows(
        "SELECT users.username FROM reviews JOIN users ON users.id = reviews.user_id "
        "WHERE reviews.book_id = ? ORDER BY users.username",
        (story,),
    )
    assert [r["username"] for r in readers] == ["ann", "bo"], readers


@pytest.mark.grade(points=1, hint="Two authors cannot share a name: make the column unique.")
def test_author_names_are_unique(call, database, student_error):
    assert frozenset({"name"}) in database.unique_column_sets("authors"), database.rows(
        "PRAGMA index_list(authors)"
    )
    call("crud.create_author", "Same Name")
    with pytest.raises(student_error) as raised:
        call("crud.create_author", "Same Name")
    assert raised.value.is_a("IntegrityError"), raised.value
    assert database.scalar("SELECT count(*) FROM authors") == 1


@pytest.mark.grade(
    points=1, hint="A user reviews a book at most once: a unique constraint on (user_id, book_id)."
)
def test_one_review_per_user_and_book(database):
    unique = database.unique_column_sets("reviews")
    assert frozenset({"user_id", "book_id"}) in unique, unique
    assert frozenset({"user_id"}) not in unique and frozenset({"book_id"}) not in unique, (
        "a user may review many books, and a book have many reviewers",
        unique,
    )


@pytest.mark.grade(
    points=1, hint="Book.author_id is a ForeignKey to authors.id; SQLite must enforce it."
)
def test_book_with_unknown_author_id_is_rejected(database):
    author_id = column(database, "books", "author_id")
    assert author_id is not None and author_id["notnull"] == 1, database.columns("books")
    found = foreign_key(database, "books", "author_id")
    assert found is not None and (found["table"], found["to"]) == ("authors", "id"), found


@pytest.mark.grade(
    points=1, hint="`flask init-db` creates the tables with every column of the models."
)
def test_init_db_creates_tables_with_columns(runner, database):
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    columns = {table: {c["name"] for c in database.columns(table)} for table in database.tables()}
    assert {"id", "name", "bio"} <= columns.get("authors", set()), columns
    assert {"id", "title", "year", "author_id"} <= columns.get("books", set()), columns
    assert {"id", "username"} <= columns.get("users", set()), columns
    assert {"id", "rating", "body", "user_id", "book_id"} <= columns.get("reviews", set()), columns


@pytest.mark.grade(
    points=1,
    hint="User.reviews back-populates Review.user and cascades: a deleted user's reviews go too "
    "(ForeignKey('users.id', ondelete='CASCADE')).",
)
def test_user_reviews_back_populate_and_go_with_the_user(call, database, model_ref):
    found = foreign_key(database, "reviews", "user_id")
    assert found is not None and found["on_delete"] == "CASCADE", found
    book = call(
        "crud.create_book", "Solaris", model_ref("Author", call("crud.create_author", "Lem")["id"])
    )
    reader = call("crud.create_user", "kris")
    review = call(
        "crud.add_review", model_ref("User", reader["id"]), model_ref("Book", book["id"]), 4
    )
    row = database.one("SELECT user_id, book_id, rating FROM reviews WHERE id = ?", (review["id"],))
    assert row == {"user_id": reader["id"], "book_id": book["id"], "rating": 4}, row


@pytest.mark.grade(
    points=1,
    hint="Every foreign key says ondelete='CASCADE', so the database itself removes dependent "
    "rows: books.author_id, reviews.user_id and reviews.book_id.",
)
def test_foreign_keys_cascade_on_delete(database):
    for table, name, target in (
        ("books", "author_id", "authors"),
        ("reviews", "user_id", "users"),
        ("reviews", "book_id", "books"),
    ):
        found = foreign_key(database, table, name)
        assert found is not None, (table, name, database.foreign_keys(table))
        assert (found["table"], found["to"], found["on_delete"]) == (target, "id", "CASCADE"), (
            table,
            name,
            found,
        )
