"""Hidden graders of lab 02: the CRUD helpers in bookshelf/crud.py."""

import pytest
from sqlalchemy.exc import IntegrityError


@pytest.fixture
def db(app):
    """The app's SQLAlchemy object, inside an application context."""
    from bookshelf.db import db

    with app.app_context():
        yield db


@pytest.fixture
def crud(db):
    """The crud module, used inside an application context."""
    from bookshelf import crud

    return crud


@pytest.mark.grade(
    points=1, hint="create_author adds the author, commits, and returns it with an id."
)
def test_create_author_is_saved(crud, db):
    author = crud.create_author("Ann Leckie", "Wrote Ancillary Justice.")
    assert isinstance(author.id, int)
    db.session.expunge_all()  # forget the object, so the next read comes from the database
    again = crud.get_author(author.id)
    assert (again.name, again.bio) == ("Ann Leckie", "Wrote Ancillary Justice.")


@pytest.mark.grade(
    points=1, hint="get_author (and get_book, get_user, get_review) return None for an unknown id."
)
def test_get_helpers_return_none_for_unknown_ids(crud):
    assert crud.get_author(999) is None
    assert crud.get_book(999) is None
    assert crud.get_user(999) is None
    assert crud.get_review(999) is None


@pytest.mark.grade(
    points=1, hint="find_author and find_user look a row up by its exact name, or return None."
)
def test_find_author_and_user_by_name(crud):
    crud.create_author("N. K. Jemisin")
    crud.create_user("sam")
    assert crud.find_author("N. K. Jemisin").name == "N. K. Jemisin"
    assert crud.find_author("Nobody") is None
    assert crud.find_user("sam").username == "sam"
    assert crud.find_user("nobody") is None


@pytest.mark.grade(points=1, hint="list_authors returns every author sorted by name.")
def test_list_authors_is_sorted_by_name(crud):
    for name in ("Zadie Smith", "Alice Munro", "Mo Yan"):
        crud.create_author(name)
    assert [a.name for a in crud.list_authors()] == ["Alice Munro", "Mo Yan", "Zadie Smith"]


@pytest.mark.grade(points=2, hint="update_author changes only the fields it is given and commits.")
def test_update_author_changes_only_given_fields(crud, db):
    author = crud.create_author("Old Name", "Kept bio.")
    author_id = author.id
    crud.update_author(author, name="New Name")
    db.session.expunge_all()
    again = crud.get_author(author_id)
    assert (again.name, again.bio) == ("New Name", "Kept bio.")


@pytest.mark.grade(
    points=1,
    hint="Updating a field a model does not allow should raise TypeError (see apply_changes).",
)
def test_update_helpers_refuse_unknown_fields(crud):
    author = crud.create_author("Strict Author")
    with pytest.raises(TypeError):
        crud.update_author(author, id=77)
    book = crud.create_book("Strict Book", author)
    with pytest.raises(TypeError):
        crud.update_book(book, rating=5)


@pytest.mark.grade(
    points=2, hint="Deleting an author must delete their books and those books' reviews (cascade)."
)
def test_delete_author_cascades_to_books_and_reviews(crud, db):
    author = crud.create_author("Doomed Author")
    other = crud.create_book("Survivor", crud.create_author("Other Author"))
    book = crud.create_book("Doomed Book", author)
    user = crud.create_user("witness")
    crud.add_review(user, book, 3)
    crud.add_review(user, other, 4)
    ids = (author.id, other.id, user.id)
    crud.delete_author(author)
    db.session.expunge_all()
    assert crud.get_author(ids[0]) is None
    assert [b.title for b in crud.list_books()] == ["Survivor"]
    assert [r.book_id for r in crud.list_reviews()] == [ids[1]]
    assert crud.get_user(ids[2]) is not None


@pytest.mark.grade(
    points=1, hint="create_book links the book to its author; get_book reads it back."
)
def test_create_book_and_get_it_back(crud, db):
    author = crud.create_author("Kazuo Ishiguro")
    book_id = crud.create_book("Klara and the Sun", author, 2021).id
    db.session.expunge_all()
    again = crud.get_book(book_id)
    assert (again.title, again.year, again.author.name) == (
        "Klara and the Sun",
        2021,
        "Kazuo Ishiguro",
    )


@pytest.mark.grade(
    points=1, hint="A book's year is optional: create_book(title, author) works without it."
)
def test_create_book_without_year(crud):
    book = crud.create_book("Undated", crud.create_author("Anon"))
    assert book.id is not None and book.year is None


@pytest.mark.grade(
    points=2, hint="list_books sorts by id; title_contains filters titles ignoring case."
)
def test_list_books_sorts_and_filters_by_title(crud):
    author = crud.create_author("Filter Author")
    for title in ("Moon Song", "Sun Song", "Moonrise"):
        crud.create_book(title, author)
    assert [b.title for b in crud.list_books()] == ["Moon Song", "Sun Song", "Moonrise"]
    assert [b.title for b in crud.list_books(title_contains="MOON")] == ["Moon Song", "Moonrise"]
    assert crud.list_books(title_contains="nothing like this") == []


@pytest.mark.grade(
    points=2, hint="update_book can move a book to another author; both authors' lists follow."
)
def test_update_book_moves_it_to_another_author(crud, db):
    first, second = crud.create_author("First"), crud.create_author("Second")
    book = crud.create_book("Moving Book", first, 1999)
    crud.update_book(book, author=second)
    db.session.expire_all()
    assert [b.title for b in second.books] == ["Moving Book"]
    assert first.books == []
    assert crud.get_book(book.id).year == 1999


@pytest.mark.grade(
    points=2, hint="Deleting a book deletes its reviews but keeps its author and the users."
)
def test_delete_book_deletes_its_reviews_only(crud, db):
    author = crud.create_author("Keeper")
    book = crud.create_book("Gone Book", author)
    user = crud.create_user("keeps")
    crud.add_review(user, book, 2, "meh")
    ids = (book.id, author.id, user.id)
    crud.delete_book(book)
    db.session.expunge_all()
    assert crud.get_book(ids[0]) is None
    assert crud.list_reviews() == []
    assert crud.get_author(ids[1]) is not None and crud.get_user(ids[2]) is not None


@pytest.mark.grade(
    points=2, hint="add_review stores rating and body; list_reviews filters by book and by user."
)
def test_add_review_and_list_by_book_and_user(crud):
    author = crud.create_author("Reviewed")
    one, two = crud.create_book("One", author), crud.create_book("Two", author)
    ann, bo = crud.create_user("ann"), crud.create_user("bo")
    crud.add_review(ann, one, 5, "great")
    crud.add_review(bo, one, 3)
    crud.add_review(ann, two, 1, "no")
    assert [(r.rating, r.body) for r in crud.list_reviews(book=one)] == [(5, "great"), (3, "")]
    assert [r.book.title for r in crud.list_reviews(user=ann)] == ["One", "Two"]
    assert [r.rating for r in crud.list_reviews(book=two, user=bo)] == []
    assert len(crud.list_reviews()) == 3


@pytest.mark.grade(
    points=1, hint="A second review of the same book by the same user raises IntegrityError."
)
def test_add_review_twice_raises_integrity_error(crud):
    book = crud.create_book("Twice", crud.create_author("Twice Author"))
    user = crud.create_user("repeat")
    crud.add_review(user, book, 4)
    with pytest.raises(IntegrityError):
        crud.add_review(user, book, 5)
    # The helper rolled back, so the session still works.
    assert [r.rating for r in crud.list_reviews()] == [4]


@pytest.mark.grade(
    points=1,
    hint="create_author with a taken name raises IntegrityError and leaves a usable session.",
)
def test_duplicate_author_raises_and_session_recovers(crud):
    crud.create_author("Unique Person")
    with pytest.raises(IntegrityError):
        crud.create_author("Unique Person")
    assert [a.name for a in crud.list_authors()] == ["Unique Person"]


@pytest.mark.grade(
    points=1, hint="update_review changes rating or body; delete_review removes only that review."
)
def test_update_and_delete_review(crud, db):
    book = crud.create_book("Edited", crud.create_author("Editor"))
    first = crud.add_review(crud.create_user("u1"), book, 2, "first take")
    second = crud.add_review(crud.create_user("u2"), book, 4)
    first_id, second_id, book_id = first.id, second.id, book.id
    crud.update_review(first, rating=3)
    db.session.expunge_all()
    again = crud.get_review(first_id)
    assert (again.rating, again.body) == (3, "first take")
    crud.delete_review(crud.get_review(second_id))
    assert [r.id for r in crud.list_reviews()] == [first_id]
    assert crud.get_book(book_id) is not None


@pytest.mark.grade(
    points=1, hint="average_rating is None without reviews, else the mean rating (func.avg)."
)
def test_average_rating(crud):
    book = crud.create_book("Rated", crud.create_author("Rater"))
    assert crud.average_rating(book) is None
    crud.add_review(crud.create_user("r1"), book, 5)
    crud.add_review(crud.create_user("r2"), book, 2)
    assert crud.average_rating(book) == pytest.approx(3.5)


@pytest.mark.grade(
    points=1, hint="update_author, update_book and update_review return the row they changed."
)
def test_update_helpers_return_the_changed_row(crud):
    author = crud.create_author("Returner")
    book = crud.create_book("Returned", author)
    review = crud.add_review(crud.create_user("returns"), book, 3)
    assert crud.update_author(author, bio="back again") is author
    assert crud.update_book(book, title="Returned Twice") is book
    assert crud.update_review(review, rating=4) is review


@pytest.mark.grade(
    points=1,
    hint="Every helper that writes commits with save(): a rollback afterwards must not undo it.",
)
def test_writes_survive_a_rollback_because_they_are_committed(crud, db):
    crud.create_user("committed")
    db.session.rollback()
    assert crud.find_user("committed") is not None
    book = crud.create_book("Kept", crud.create_author("Kept Author"))
    review_id = crud.add_review(crud.find_user("committed"), book, 5).id
    crud.delete_review(crud.get_review(review_id))
    db.session.rollback()
    assert crud.get_review(review_id) is None
