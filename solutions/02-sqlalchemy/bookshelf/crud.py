"""Create, read, update and delete helpers: the only place that talks to the session.

Every helper that writes commits before it returns, so a caller never leaves half-finished work
in the session. Call them inside an application context (a request, a CLI command, or
``with app.app_context():``).
"""

from sqlalchemy import func, select

from .db import db
from .models import Author, Book, Review, User


def save():
    """Commit the session; on any error roll back first, so the session stays usable."""
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def apply_changes(row, changes, allowed):
    """Set the attributes named in ``changes`` on ``row``; refuse names not in ``allowed``."""
    unknown = set(changes) - set(allowed)
    if unknown:
        raise TypeError(f"cannot change {', '.join(sorted(unknown))}")
    for name, value in changes.items():
        setattr(row, name, value)


# --- authors -------------------------------------------------------------------------------


def create_author(name, bio=None):
    """Add an author and return it; a name that is taken raises IntegrityError."""
    # TODO(02-sqlalchemy): add an Author to the session, save() and return it.
    ### BEGIN SOLUTION
    author = Author(name=name, bio=bio)
    db.session.add(author)
    save()
    return author
    ### END SOLUTION


def get_author(author_id):
    """Return the author with this id, or None."""
    # TODO(02-sqlalchemy): look the author up by primary key.
    ### BEGIN SOLUTION
    return db.session.get(Author, author_id)
    ### END SOLUTION


def find_author(name):
    """Return the author with exactly this name, or None."""
    # TODO(02-sqlalchemy): select the author whose name is ``name``.
    ### BEGIN SOLUTION
    return db.session.scalar(select(Author).where(Author.name == name))
    ### END SOLUTION


def list_authors():
    """Return every author, sorted by name."""
    # TODO(02-sqlalchemy): select all authors ordered by name.
    ### BEGIN SOLUTION
    return list(db.session.scalars(select(Author).order_by(Author.name)))
    ### END SOLUTION


def update_author(author, **changes):
    """Change the given fields (``name``, ``bio``) of an author and return it."""
    # TODO(02-sqlalchemy): apply_changes() with the allowed fields, save() and return the author.
    ### BEGIN SOLUTION
    apply_changes(author, changes, {"name", "bio"})
    save()
    return author
    ### END SOLUTION


def delete_author(author):
    """Delete an author; the relationship's cascade deletes their books and those reviews."""
    # TODO(02-sqlalchemy): delete the author and save().
    ### BEGIN SOLUTION
    db.session.delete(author)
    save()
    ### END SOLUTION


# --- books ---------------------------------------------------------------------------------


def create_book(title, author, year=None):
    """Add a book by ``author`` (an Author) and return it."""
    # TODO(02-sqlalchemy): add a Book linked to its author, save() and return it.
    ### BEGIN SOLUTION
    book = Book(title=title, author=author, year=year)
    db.session.add(book)
    save()
    return book
    ### END SOLUTION


def get_book(book_id):
    """Return the book with this id, or None."""
    # TODO(02-sqlalchemy): look the book up by primary key.
    ### BEGIN SOLUTION
    return db.session.get(Book, book_id)
    ### END SOLUTION


def list_books(title_contains=None, limit=None):
    """Return books sorted by id; ``title_contains`` keeps titles holding it, ignoring case.

    ``limit`` returns at most that many books: the database stops early, instead of Python
    loading every row and throwing most of them away.
    """
    # TODO(02-sqlalchemy): select books ordered by id, filtered when title_contains is given,
    # and limited (.limit()) when limit is given.
    ### BEGIN SOLUTION
    query = select(Book).order_by(Book.id)
    if title_contains:
        # icontains ignores case on every database; autoescape makes % and _ plain characters.
        query = query.where(Book.title.icontains(title_contains, autoescape=True))
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query))
    ### END SOLUTION


def books_by_author_name(name):
    """Return the books whose author is called ``name``, ignoring case, sorted by id."""
    # TODO(02-sqlalchemy): join Book to its author and compare lower-case names.
    ### BEGIN SOLUTION
    query = (
        select(Book)
        .join(Book.author)
        .where(func.lower(Author.name) == name.strip().lower())
        .order_by(Book.id)
    )
    return list(db.session.scalars(query))
    ### END SOLUTION


def update_book(book, **changes):
    """Change the given fields (``title``, ``year``, ``author``) of a book and return it."""
    # TODO(02-sqlalchemy): apply_changes() with the allowed fields, save() and return the book.
    ### BEGIN SOLUTION
    apply_changes(book, changes, {"title", "year", "author"})
    save()
    return book
    ### END SOLUTION


def delete_book(book):
    """Delete a book; the relationship's cascade deletes its reviews."""
    # TODO(02-sqlalchemy): delete the book and save().
    ### BEGIN SOLUTION
    db.session.delete(book)
    save()
    ### END SOLUTION


# --- users and reviews ---------------------------------------------------------------------


def create_user(username):
    """Add a user and return it; a username that is taken raises IntegrityError."""
    # TODO(02-sqlalchemy): add a User, save() and return it.
    ### BEGIN SOLUTION
    user = User(username=username)
    db.session.add(user)
    save()
    return user
    ### END SOLUTION


def get_user(user_id):
    """Return the user with this id, or None."""
    # TODO(02-sqlalchemy): look the user up by primary key.
    ### BEGIN SOLUTION
    return db.session.get(User, user_id)
    ### END SOLUTION


def find_user(username):
    """Return the user with exactly this username, or None."""
    # TODO(02-sqlalchemy): select the user whose username is ``username``.
    ### BEGIN SOLUTION
    return db.session.scalar(select(User).where(User.username == username))
    ### END SOLUTION


def add_review(user, book, rating, body=""):
    """Add ``user``'s review of ``book`` and return it; a second one raises IntegrityError."""
    # TODO(02-sqlalchemy): add a Review linking user and book, save() and return it.
    ### BEGIN SOLUTION
    review = Review(user=user, book=book, rating=rating, body=body)
    db.session.add(review)
    save()
    return review
    ### END SOLUTION


def get_review(review_id):
    """Return the review with this id, or None."""
    # TODO(02-sqlalchemy): look the review up by primary key.
    ### BEGIN SOLUTION
    return db.session.get(Review, review_id)
    ### END SOLUTION


def list_reviews(book=None, user=None):
    """Return reviews sorted by id, only those of ``book`` and/or ``user`` when given."""
    # TODO(02-sqlalchemy): select reviews ordered by id, filtered by book and user when given.
    ### BEGIN SOLUTION
    query = select(Review).order_by(Review.id)
    if book is not None:
        query = query.where(Review.book_id == book.id)
    if user is not None:
        query = query.where(Review.user_id == user.id)
    return list(db.session.scalars(query))
    ### END SOLUTION


def update_review(review, **changes):
    """Change the given fields (``rating``, ``body``) of a review and return it."""
    # TODO(02-sqlalchemy): apply_changes() with the allowed fields, save() and return the review.
    ### BEGIN SOLUTION
    apply_changes(review, changes, {"rating", "body"})
    save()
    return review
    ### END SOLUTION


def delete_review(review):
    """Delete one review."""
    # TODO(02-sqlalchemy): delete the review and save().
    ### BEGIN SOLUTION
    db.session.delete(review)
    save()
    ### END SOLUTION


def average_rating(book):
    """Return the mean rating of ``book``, or None when nobody has reviewed it."""
    # TODO(02-sqlalchemy): let the database compute avg(rating) over the book's reviews.
    ### BEGIN SOLUTION
    return db.session.scalar(select(func.avg(Review.rating)).where(Review.book_id == book.id))
    ### END SOLUTION
