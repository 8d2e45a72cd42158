"""Create, read, update and delete helpers: the only place that talks to the session.

Every helper that writes commits before it returns, so a caller never leaves half-finished work
in the session. Call them inside an application context (a request, a CLI command, or
``with app.app_context():``).
"""

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

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
    author = Author(name=name, bio=bio)
    db.session.add(author)
    save()
    return author


def get_author(author_id):
    """Return the author with this id, or None."""
    return db.session.get(Author, author_id)


def find_author(name):
    """Return the author with exactly this name, or None."""
    return db.session.scalar(select(Author).where(Author.name == name))


def authors_query():
    """The query of every author, sorted by name (run it whole, or one page at a time)."""
    # Each author in a list shows how many books they have: load the books of the whole page in
    # one more query (selectin), not with one more query per author.
    return select(Author).options(selectinload(Author.books)).order_by(Author.name, Author.id)


def list_authors():
    """Return every author, sorted by name."""
    return list(db.session.scalars(authors_query()))


def update_author(author, **changes):
    """Change the given fields (``name``, ``bio``) of an author and return it."""
    apply_changes(author, changes, {"name", "bio"})
    save()
    return author


def delete_author(author):
    """Delete an author; the relationship's cascade deletes their books and those reviews."""
    db.session.delete(author)
    save()


# --- books ---------------------------------------------------------------------------------


def create_book(title, author, year=None, isbn=None):
    """Add a book by ``author`` (an Author, saved with the book if new) and return it."""
    book = Book(title=title, author=author, year=year, isbn=isbn)
    db.session.add(book)
    save()
    return book


def get_book(book_id):
    """Return the book with this id, or None."""
    return db.session.get(Book, book_id)


def books_query(title_contains=None, author_id=None):
    """The query of the books sorted by id, only titles holding ``title_contains`` (any case)
    and only the books of ``author_id`` when given."""
    # Every book in a list shows its author's name: load the authors in the same query, not
    # with one more query per book. Every book has an author, so an inner join finds them all.
    query = select(Book).options(joinedload(Book.author, innerjoin=True)).order_by(Book.id)
    if title_contains:
        # icontains ignores case on every database; autoescape makes % and _ plain characters.
        query = query.where(Book.title.icontains(title_contains, autoescape=True))
    if author_id is not None:
        query = query.where(Book.author_id == author_id)
    return query


def list_books(title_contains=None, limit=None):
    """Return books sorted by id; ``title_contains`` keeps titles holding it, ignoring case.

    ``limit`` returns at most that many books: the database stops early.
    """
    query = books_query(title_contains)
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def update_book(book, **changes):
    """Change the given fields (``title``, ``year``, ``isbn``, ``author``) of a book; return it."""
    apply_changes(book, changes, {"title", "year", "isbn", "author"})
    save()
    return book


def delete_book(book):
    """Delete a book; the relationship's cascade deletes its reviews."""
    db.session.delete(book)
    save()


# --- users and reviews ---------------------------------------------------------------------


def create_user(username, password=None, role="reader"):
    """Add a user and return it; a username that is taken raises IntegrityError.

    Without a password the user exists (their reviews can name them) but cannot log in.
    """
    user = User(username=username, role=role)
    if password is not None:
        user.set_password(password)
    db.session.add(user)
    save()
    return user


def users_query():
    """The query of every user, sorted by id."""
    return select(User).order_by(User.id)


def list_users():
    """Return every user, sorted by id."""
    return list(db.session.scalars(users_query()))


def update_user(user, **changes):
    """Change the given fields (``role``) of a user and return it."""
    apply_changes(user, changes, {"role"})
    save()
    return user


def delete_user(user):
    """Delete a user; the relationship's cascade deletes their reviews."""
    db.session.delete(user)
    save()


def get_user(user_id):
    """Return the user with this id, or None."""
    return db.session.get(User, user_id)


def find_user(username):
    """Return the user with exactly this username, or None."""
    return db.session.scalar(select(User).where(User.username == username))


def add_review(user, book, rating, body=""):
    """Add ``user``'s review of ``book`` and return it; a second one raises IntegrityError."""
    review = Review(user=user, book=book, rating=rating, body=body)
    db.session.add(review)
    save()
    return review


def get_review(review_id):
    """Return the review with this id, or None."""
    return db.session.get(Review, review_id)


def reviews_query(book_id=None, user_id=None):
    """The query of the reviews sorted by id, only those of one book and/or one user."""
    # Every review in a list shows its writer and its book: load them in the same query (inner
    # joins: every review has both, and every book an author).
    query = (
        select(Review)
        .options(
            joinedload(Review.user, innerjoin=True),
            joinedload(Review.book, innerjoin=True).joinedload(Book.author, innerjoin=True),
        )
        .order_by(Review.id)
    )
    if book_id is not None:
        query = query.where(Review.book_id == book_id)
    if user_id is not None:
        query = query.where(Review.user_id == user_id)
    return query


def list_reviews(book=None, user=None):
    """Return reviews sorted by id, only those of ``book`` and/or ``user`` when given."""
    query = reviews_query(book and book.id, user and user.id)
    return list(db.session.scalars(query))


def update_review(review, **changes):
    """Change the given fields (``rating``, ``body``) of a review and return it."""
    apply_changes(review, changes, {"rating", "body"})
    save()
    return review


def delete_review(review):
    """Delete one review."""
    db.session.delete(review)
    save()


def average_rating(book):
    """Return the mean rating of ``book``, or None when nobody has reviewed it."""
    return db.session.scalar(select(func.avg(Review.rating)).where(Review.book_id == book.id))


def books_by_author_name_query(name):
    """The query of the books whose author is called ``name``, ignoring case, sorted by id."""
    return (
        select(Book)
        .join(Book.author)
        # The author is joined for the WHERE already: fill book.author from that same join.
        .options(contains_eager(Book.author))
        .where(func.lower(Author.name) == name.strip().lower())
        .order_by(Book.id)
    )


def books_by_author_name(name):
    """Return the books whose author is called ``name``, ignoring case, sorted by id."""
    return list(db.session.scalars(books_by_author_name_query(name)))
