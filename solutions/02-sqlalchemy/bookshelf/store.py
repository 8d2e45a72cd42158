"""Lab 01's in-memory books: where the routes of lab 02 start.

At the start of lab 02 every /books route still answers from this store, exactly as in lab 01,
so the API keeps working while you build the models and the helpers. One route at a time, you
move them onto the database; once ``books.py`` no longer imports this module, nothing does, and
lab 03 deletes it.
"""

from flask import current_app

SAMPLE_BOOKS = (
    {"title": "A Wizard of Earthsea", "author": "Ursula K. Le Guin", "year": 1968},
    {"title": "The Left Hand of Darkness", "author": "Ursula K. Le Guin", "year": 1969},
    {"title": "Kindred", "author": "Octavia E. Butler", "year": 1979},
    {"title": "Piranesi", "author": "Susanna Clarke", "year": 2020},
)


class BookStore:
    """Books as dictionaries ``{"id", "title", "author", "year"}``, with increasing ids."""

    def __init__(self, books=()):
        self._books = {}
        self._next_id = 1
        for book in books:
            self.add(book["title"], book["author"], book.get("year"))

    def all(self):
        """Return every book, oldest id first, as a new list of copies."""
        return [dict(book) for book in self._books.values()]

    def get(self, book_id):
        """Return a copy of the book with this id, or None."""
        book = self._books.get(book_id)
        return dict(book) if book is not None else None

    def add(self, title, author, year=None):
        """Store a new book and return a copy of it with its id."""
        book = {"id": self._next_id, "title": title, "author": author, "year": year}
        self._books[book["id"]] = book
        self._next_id += 1
        return dict(book)


def get_store():
    """Return the store of the current application, made with the sample books on first use."""
    if "bookshelf_store" not in current_app.extensions:
        current_app.extensions["bookshelf_store"] = BookStore(SAMPLE_BOOKS)
    return current_app.extensions["bookshelf_store"]


# Lab 01's answers to the queries of two views, so those views can keep them until they move.


def list_books(text, limit):
    """The books whose title contains ``text`` (any case), at most ``limit`` of them."""
    books = [book for book in get_store().all() if text.lower() in book["title"].lower()]
    return books[:limit]


def books_by_author(name):
    """The books by one author, ignoring case."""
    wanted = name.strip().lower()
    return [book for book in get_store().all() if book["author"].lower() == wanted]
