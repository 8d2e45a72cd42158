"""An in-memory store of books, one per application instance.

Lab 01 is about routes, not databases, so the data lives in a plain Python object kept in
``app.extensions``. Lab 02 replaces it with a real database.
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


def init_app(app):
    """Give ``app`` a fresh store holding the sample books."""
    app.extensions["bookshelf_store"] = BookStore(SAMPLE_BOOKS)


def get_store():
    """Return the store of the application handling the current request."""
    return current_app.extensions["bookshelf_store"]
