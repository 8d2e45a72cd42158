"""The tables of the Bookshelf: authors write books, users review books.

``Author`` 1—* ``Book``: a book has one author, an author many books.
``User`` *—* ``Book`` through ``Review``: the association table is a model of its own because a
review carries data (a rating and a text), not only the two foreign keys.
"""

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from .db import db
from .validation import (
    FIRST_YEAR,
    ISBN_LENGTH,
    LAST_YEAR_IN_DATABASE,
    NAME_LENGTH,
    ROLE_LENGTH,
    ROLES,
    TITLE_LENGTH,
    USERNAME_LENGTH,
    check_field,
    free_text,
    isbn,
    person_name,
    publication_year,
    rating,
    role,
    title,
    username,
)

# Two fences for every rule. @validates (Python) explains a bad value to the client before any
# SQL runs; the CHECK and UNIQUE constraints (the database) hold for every writer, including
# bulk statements that never build a model and two requests racing each other. The constraint
# names get their prefix and table from the naming convention in db.py: ck_books_title_not_blank.


class Author(db.Model):
    """A person who wrote books; deleting an author deletes their books."""

    __tablename__ = "authors"
    __table_args__ = (CheckConstraint("length(trim(name)) > 0", name="name_not_blank"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    bio: Mapped[str | None] = mapped_column(Text)
    # delete-orphan: a book cannot exist without its author, so it goes when the author goes.
    books: Mapped[list["Book"]] = relationship(
        back_populates="author", cascade="all, delete-orphan", order_by="Book.id"
    )

    def to_dict(self):
        """Return the author as a JSON-ready dict: id, name, bio."""
        return {"id": self.id, "name": self.name, "bio": self.bio}

    @validates("name")
    def validate_name(self, key, value):
        """Every name set in Python meets the person_name rule (stripped, not blank, not long)."""
        return check_field(key, value, person_name)

    @validates("bio")
    def validate_bio(self, key, value):
        """A bio is text or None."""
        return check_field(key, value, free_text)



class Book(db.Model):
    """A book by one author, with the reviews users wrote about it."""

    __tablename__ = "books"
    __table_args__ = (
        CheckConstraint("length(trim(title)) > 0", name="title_not_blank"),
        # A CHECK is true for NULL, so a book without a year passes.
        CheckConstraint(
            f"year BETWEEN {FIRST_YEAR} AND {LAST_YEAR_IN_DATABASE}", name="year_sensible"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(TITLE_LENGTH))
    year: Mapped[int | None]
    isbn: Mapped[str | None] = mapped_column(String(ISBN_LENGTH), unique=True)
    # Indexed: "the books of this author" (?author_id=, an author's page) finds them directly.
    author_id: Mapped[int] = mapped_column(
        ForeignKey("authors.id", ondelete="CASCADE"), index=True
    )
    author: Mapped[Author] = relationship(back_populates="books")
    reviews: Mapped[list["Review"]] = relationship(
        back_populates="book", cascade="all, delete-orphan", order_by="Review.id"
    )
    # viewonly: reviewers are added by creating a Review, never through this list.
    reviewers: Mapped[list["User"]] = relationship(secondary="reviews", viewonly=True)

    def to_dict(self):
        """Return the book as a JSON-ready dict; ``author`` is the author's name."""
        return {
            "id": self.id,
            "title": self.title,
            "author": self.author.name,
            "author_id": self.author_id,
            "year": self.year,
            "isbn": self.isbn,
        }

    @validates("title")
    def validate_title(self, key, value):
        """Every title set in Python meets the title rule."""
        return check_field(key, value, title)

    @validates("year")
    def validate_year(self, key, value):
        """A year is None or a sensible publication year."""
        return check_field(key, value, publication_year)

    @validates("isbn")
    def validate_isbn(self, key, value):
        """An ISBN is None or 10/13 digits, stored without hyphens."""
        return check_field(key, value, isbn)



class User(UserMixin, db.Model):
    """Someone who reviews books, and who can log in once they have a password.

    UserMixin gives Flask-Login what it asks of a user: is_authenticated, is_active, get_id().
    """

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("length(trim(username)) > 0", name="username_not_blank"),
        CheckConstraint(f"role IN {ROLES}", name="role_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(USERNAME_LENGTH), unique=True)
    # A scrypt hash is about 160 characters. NULL: the user cannot log in (no password yet).
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(
        String(ROLE_LENGTH), default="reader", server_default="reader"
    )
    reviews: Mapped[list["Review"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="Review.id"
    )
    reviewed_books: Mapped[list[Book]] = relationship(secondary="reviews", viewonly=True)

    def set_password(self, password):
        """Store a salted hash of ``password``, never the password itself."""
        method = current_app.config["PASSWORD_HASH_METHOD"]
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password):
        """Whether ``password`` matches the stored hash; a user without one never matches."""
        return self.password_hash is not None and check_password_hash(self.password_hash, password)

    def has_role(self, needed):
        """Whether the user's role is ``needed`` or one with more rights (admin > librarian)."""
        return ROLES.index(self.role) >= ROLES.index(needed)

    def to_dict(self):
        """Return the user as a JSON-ready dict: id, username, role (never the password hash)."""
        return {"id": self.id, "username": self.username, "role": self.role}

    @validates("username")
    def validate_username(self, key, value):
        """Every username set in Python meets the username rule."""
        return check_field(key, value, username)

    @validates("role")
    def validate_role(self, key, value):
        """A role is one of ROLES."""
        return check_field(key, value, role)



class Review(db.Model):
    """One user's rating (1 to 5) and text about one book; one review per user and book."""

    __tablename__ = "reviews"

    # One review per user and book.
    __table_args__ = (
        UniqueConstraint("user_id", "book_id"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)

    rating: Mapped[int]
    body: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id", ondelete="CASCADE"))
    user: Mapped[User] = relationship(back_populates="reviews")
    book: Mapped[Book] = relationship(back_populates="reviews")

    def to_dict(self):
        """Return the review as a JSON-ready dict, naming its book and its user."""
        return {
            "id": self.id,
            "book_id": self.book_id,
            "user_id": self.user_id,
            "username": self.user.username,
            "rating": self.rating,
            "body": self.body,
        }

    @validates("rating")
    def validate_rating(self, key, value):
        """A rating is a whole number from 1 to 5, whoever sets it."""
        return check_field(key, value, rating)

    @validates("body")
    def validate_body(self, key, value):
        """A body is text or None."""
        return check_field(key, value, free_text)


class DataVersion(db.Model):
    """One row whose ``version`` changes in every transaction that changes the data above.

    page_cache.py keeps rendered pages under the version they were built from, and bumps it
    in the same transaction as each write, so a page of old data is never found again.
    """

    __tablename__ = "data_version"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # BigInteger: it starts from the clock in microseconds (see page_cache.first_version).
    version: Mapped[int] = mapped_column(BigInteger)
