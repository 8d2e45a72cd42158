"""The tables of the Bookshelf: authors write books, users review books.

``Author`` 1—* ``Book``: a book has one author, an author many books.
``User`` *—* ``Book`` through ``Review``: the association table is a model of its own because a
review carries data (a rating and a text), not only the two foreign keys.
"""

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import db


class Author(db.Model):
    """A person who wrote books; deleting an author deletes their books."""

    __tablename__ = "authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    bio: Mapped[str | None] = mapped_column(Text)
    # delete-orphan: a book cannot exist without its author, so it goes when the author goes.
    books: Mapped[list["Book"]] = relationship(
        back_populates="author", cascade="all, delete-orphan", order_by="Book.id"
    )

    def to_dict(self):
        """Return the author as a JSON-ready dict: id, name, bio."""
        return {"id": self.id, "name": self.name, "bio": self.bio}


class Book(db.Model):
    """A book by one author, with the reviews users wrote about it."""

    __tablename__ = "books"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    year: Mapped[int | None]
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id", ondelete="CASCADE"))
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
        }


class User(db.Model):
    """Someone who reviews books."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    reviews: Mapped[list["Review"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="Review.id"
    )
    reviewed_books: Mapped[list[Book]] = relationship(secondary="reviews", viewonly=True)

    def to_dict(self):
        """Return the user as a JSON-ready dict: id, username."""
        return {"id": self.id, "username": self.username}


class Review(db.Model):
    """One user's rating (1 to 5) and text about one book; one review per user and book."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    __table_args__ = (UniqueConstraint("user_id", "book_id"),)

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
