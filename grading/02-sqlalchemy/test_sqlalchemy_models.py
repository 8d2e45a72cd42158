"""Hidden graders of lab 02: the models, their columns, relationships and constraints."""

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError


@pytest.fixture
def db(app):
    """The app's SQLAlchemy object, inside an application context."""
    from bookshelf.db import db

    with app.app_context():
        yield db


@pytest.mark.grade(
    points=1, hint="Author needs a name and an optional bio column; commit and read it back."
)
def test_author_name_and_bio_are_stored(db):
    from bookshelf.models import Author

    db.session.add(Author(name="Mary Shelley", bio="Wrote Frankenstein."))
    db.session.commit()
    db.session.expunge_all()
    author = db.session.scalars(db.select(Author)).one()
    assert (author.name, author.bio) == ("Mary Shelley", "Wrote Frankenstein.")


@pytest.mark.grade(
    points=2, hint="Book.author and Author.books must use back_populates on both sides."
)
def test_book_author_and_author_books_back_populate(db):
    from bookshelf.models import Author, Book

    author = Author(name="Italo Calvino")
    book = Book(title="Invisible Cities", year=1972)
    book.author = author
    # back_populates keeps both sides in step in Python, before anything is saved.
    assert book in author.books
    db.session.add(author)
    db.session.commit()
    assert book.author_id == author.id


@pytest.mark.grade(points=1, hint="Author.to_dict() returns id, name and bio.")
def test_author_to_dict_has_id_name_bio(db):
    from bookshelf.models import Author

    author = Author(name="Jorge Luis Borges", bio="Wrote Ficciones.")
    db.session.add(author)
    db.session.commit()
    data = author.to_dict()
    assert {key: data.get(key) for key in ("id", "name", "bio")} == {
        "id": author.id,
        "name": "Jorge Luis Borges",
        "bio": "Wrote Ficciones.",
    }, data


@pytest.mark.grade(
    points=2, hint="Book.to_dict() returns id, title, year, author_id and author as the name."
)
def test_book_to_dict_names_its_author(db):
    from bookshelf.models import Author, Book

    author = Author(name="Toni Morrison")
    book = Book(title="Beloved", year=1987, author=author)
    db.session.add(book)
    db.session.commit()
    data = book.to_dict()
    expected = {
        "id": book.id,
        "title": "Beloved",
        "year": 1987,
        "author": "Toni Morrison",
        "author_id": author.id,
    }
    assert {key: data.get(key) for key in expected} == expected, data


@pytest.mark.grade(
    points=1, hint="Review.to_dict() returns id, book_id, user_id, username, rating and body."
)
def test_review_to_dict_names_book_and_user(db):
    from bookshelf.models import Author, Book, Review, User

    book = Book(title="Beloved", author=Author(name="Toni Morrison"))
    user = User(username="reader1")
    review = Review(book=book, user=user, rating=5, body="Haunting.")
    db.session.add(review)
    db.session.commit()
    data = review.to_dict()
    expected = {
        "id": review.id,
        "book_id": book.id,
        "user_id": user.id,
        "username": "reader1",
        "rating": 5,
        "body": "Haunting.",
    }
    assert {key: data.get(key) for key in expected} == expected, data


@pytest.mark.grade(points=1, hint="User.to_dict() returns id and username.")
def test_user_to_dict_has_id_and_username(db):
    from bookshelf.models import User

    user = User(username="reader2")
    db.session.add(user)
    db.session.commit()
    data = user.to_dict()
    assert {key: data.get(key) for key in ("id", "username")} == {
        "id": user.id,
        "username": "reader2",
    }, data


@pytest.mark.grade(
    points=2,
    hint="Users and books meet through Review: add reviewed_books / reviewers with secondary.",
)
def test_reviews_link_users_and_books_many_to_many(db):
    from bookshelf.models import Author, Book, Review, User

    author = Author(name="Ted Chiang")
    story, exhalation = (
        Book(title="Stories", author=author),
        Book(title="Exhalation", author=author),
    )
    ann, bo = User(username="ann"), User(username="bo")
    db.session.add_all(
        [
            Review(user=ann, book=story, rating=5),
            Review(user=ann, book=exhalation, rating=4),
            Review(user=bo, book=story, rating=3),
        ]
    )
    db.session.commit()
    db.session.expire_all()
    assert {book.title for book in ann.reviewed_books} == {"Stories", "Exhalation"}
    assert {user.username for user in story.reviewers} == {"ann", "bo"}
    assert [review.rating for review in bo.reviews] == [3]
    assert len(story.reviews) == 2


@pytest.mark.grade(points=1, hint="Two authors cannot share a name: make the column unique.")
def test_author_names_are_unique(db):
    from bookshelf.models import Author

    db.session.add_all([Author(name="Same Name"), Author(name="Same Name")])
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


@pytest.mark.grade(
    points=1, hint="A user reviews a book at most once: a unique constraint on (user_id, book_id)."
)
def test_one_review_per_user_and_book(db):
    from bookshelf.models import Author, Book, Review, User

    book = Book(title="Once", author=Author(name="Only Once"))
    user = User(username="twice")
    db.session.add_all(
        [Review(user=user, book=book, rating=4), Review(user=user, book=book, rating=2)]
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


@pytest.mark.grade(
    points=1, hint="Book.author_id is a ForeignKey to authors.id; SQLite must enforce it."
)
def test_book_with_unknown_author_id_is_rejected(db):
    from bookshelf.models import Book

    db.session.add(Book(title="Orphan", author_id=424242))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


@pytest.mark.grade(
    points=1, hint="`flask init-db` creates the tables with every column of the models."
)
def test_init_db_creates_tables_with_columns(app, runner, db):
    db.drop_all()
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    inspector = inspect(db.engine)
    columns = {
        table: {c["name"] for c in inspector.get_columns(table)}
        for table in inspector.get_table_names()
    }
    assert {"id", "name", "bio"} <= columns.get("authors", set()), columns
    assert {"id", "title", "year", "author_id"} <= columns.get("books", set()), columns
    assert {"id", "username"} <= columns.get("users", set()), columns
    assert {"id", "rating", "body", "user_id", "book_id"} <= columns.get("reviews", set()), columns


@pytest.mark.grade(
    points=1,
    hint="User.reviews back-populates Review.user and cascades: a deleted user's reviews go too.",
)
def test_user_reviews_back_populate_and_go_with_the_user(db):
    from bookshelf.models import Author, Book, Review, User

    book = Book(title="Solaris", author=Author(name="Stanislaw Lem"))
    reader = User(username="kris")
    review = Review(book=book, rating=4)
    reader.reviews.append(review)
    assert review.user is reader, "back_populates sets the other side before any save"
    db.session.add(reader)
    db.session.commit()
    db.session.delete(reader)
    db.session.commit()
    assert db.session.scalars(db.select(Review)).all() == []
    assert db.session.scalars(db.select(Book)).one().title == "Solaris"
