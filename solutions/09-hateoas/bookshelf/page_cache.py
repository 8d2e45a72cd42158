"""A cache of rendered list pages that never serves a page of old data.

Building a page of 20 books costs the database queries, the schema's dump and 80 links; sending
one already built costs almost nothing. The hard part is knowing when a built page is out of
date, in every worker process at once. A time limit (a TTL) only guesses: for its whole length
every worker may serve a list without the book a client has just created. This module knows:

* The database holds one number, ``data_version.version``. Every transaction that writes a
  book, author, review or user also adds one to it, *in the same transaction*
  (``bump_version``), so the new number is committed, or rolled back, together with the data.
* A worker reads the version *first*, then builds the page, and keeps the page with the version
  it read. Whatever the page shows is at least as new as that version: a reader who sees a
  version also sees every write that led to it, since both were committed at once.
* A kept page is sent only while its version is the *current* one. After any write, in any
  process, the version is new, so no page built before it is ever sent again.

A page is kept for its *place*: the URL exactly as received (script root, path, query string;
the hrefs are paths under the script root) and who asks (their id and role decide the action
links). Pages for nobody logged in are sent by ``AnonymousPages`` before Flask even builds a
request. The price is one small query per cached request (``SELECT version``) and one ``UPDATE``
per writing transaction.

Writes that do not go through the app's session and models (raw SQL, even through the session;
SQL typed into ``psql``, another program, a restored backup, a migration that changes rows) do
not bump the version: bump it by hand with ``UPDATE data_version SET version = version + 1``, or
restart the app, which empties the cache.
"""

import threading
import time
from collections import OrderedDict
from typing import NamedTuple

from flask import current_app, g, request
from flask_login import current_user
from sqlalchemy import create_engine, event, insert, text, update

from .db import db
from .models import DataVersion

# The list endpoints whose GET answers are kept. Their bodies depend only on the data, the URL
# and who asks; one-item answers are cheap already.
CACHED_ENDPOINTS = frozenset({"books", "books_by_author", "authors", "reviews"})
# The one query a cached request costs.
VERSION_SQL = "SELECT version FROM data_version WHERE id = 1"
# The headers a kept page is sent with again; the others (cookies, length, date) are per answer.
CACHED_HEADERS = ("Content-Type", "Link", "X-Total-Count")
# Where AnonymousPages leaves the version it read, for the page Flask then builds.
VERSION_KEY = "bookshelf.data_version"


class Page(NamedTuple):
    """A rendered answer and the data version it was built from."""

    version: int
    body: bytes
    headers: list


class PageCache:
    """The latest page of at most ``size`` places (a URL asked by one caller), the least
    recently used dropped first.

    One instance serves every thread of a worker process (gunicorn's gthread), so every access
    holds a lock.
    """

    def __init__(self, size):
        self.size = size
        self._pages = OrderedDict()
        self._lock = threading.Lock()

    def get(self, place):
        """The page kept for ``place``, or None."""
        with self._lock:
            page = self._pages.get(place)
            if page is not None:
                self._pages.move_to_end(place)
            return page

    def put(self, place, page):
        """Keep ``page`` for ``place``, dropping the least recently used place when full."""
        with self._lock:
            self._pages[place] = page
            self._pages.move_to_end(place)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)

    def __len__(self):
        with self._lock:
            return len(self._pages)


# --- the version stamp ---------------------------------------------------------------------


def first_version():
    """The version a new ``data_version`` row starts from: the clock in microseconds.

    A table built again (``flask init-db`` after dropping it, a new test database) starts above
    any version an older table of the same process reached, so no kept page matches it.
    """
    return time.time_ns() // 1000


def insert_first_version(table, connection, **kw):
    """Give a just-created ``data_version`` table its one row (``db.create_all()`` calls this)."""
    connection.execute(insert(table).values(id=1, version=first_version()))


def current_version():
    """The data version as committed right now, or None when it cannot be read (no row, no
    table, no database): then the request is answered without the cache."""
    engine = current_app.extensions.get("page_cache_engine")
    if engine is None:  # caching is off; the version is still there to read
        with db.engine.connect() as connection:
            return connection.scalar(text(VERSION_SQL))
    return read_version(engine)


def read_version(engine):
    """The version, read in autocommit mode on ``engine`` (``version_engine``): one round trip
    to the database, with no BEGIN and no ROLLBACK around it.

    A page built after this read sees this version's data or newer, never older (PostgreSQL's
    READ COMMITTED and SQLite alike).
    """
    # A plain DB-API cursor: every cached request pays for this statement, and a cursor costs
    # about half the CPU time of a SQLAlchemy Connection for it.
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(VERSION_SQL)
        row = cursor.fetchone()
    except engine.dialect.loaded_dbapi.Error:  # the driver's errors, whatever the database
        connection.invalidate()  # a connection in doubt does not go back to the pool
        return None
    finally:
        connection.close()
    return None if row is None else row[0]


def version_engine(app):
    """A second engine on the app's database whose connections run each statement on its own.

    It has a pool of its own, with nothing to roll back when a connection goes back to it. (An
    in-memory SQLite database is private to its connection: this engine finds no version row
    there, and nothing is cached.)
    """
    with app.app_context():
        url = db.engine.url
    return create_engine(url, isolation_level="AUTOCOMMIT", pool_reset_on_return=None)


def bump_version(session):
    """Add one to the version in ``session``'s transaction: it commits or rolls back with it."""
    # A Core UPDATE on the session's connection: it runs inside the flush without flushing.
    table = DataVersion.__table__
    session.connection().execute(
        update(table).where(table.c.id == 1).values(version=table.c.version + 1)
    )


def changes_data(session):
    """Whether the coming flush inserts, updates or deletes any row of the models."""
    return bool(
        session.new
        or session.deleted
        or any(session.is_modified(row) for row in session.dirty)
    )


def bump_before_flush(session, flush_context, instances):
    """Session event: a flush that writes rows bumps the version first.

    Before the rows, so every writer takes the version row's lock in the same order.
    """
    if changes_data(session):
        bump_version(session)


def bump_on_bulk_statement(orm_execute_state):
    """Session event: ``session.execute(update(...))`` and friends write without a flush."""
    if orm_execute_state.is_insert or orm_execute_state.is_update or orm_execute_state.is_delete:
        bump_version(orm_execute_state.session)


# --- serving and keeping pages ---------------------------------------------------------------


def place_of(environ, caller):
    """Where a page belongs: who asks, and the URL exactly as the server received it (script
    root, path, query string), since the hrefs of a page are paths under its script root."""
    return (
        caller,
        environ.get("SCRIPT_NAME", ""),
        environ.get("PATH_INFO", ""),
        environ.get("QUERY_STRING", ""),
    )


def current_caller():
    """Who asks, as far as a list's body can tell: their id and role (they decide the action
    links), or None for nobody logged in."""
    if current_user.is_authenticated:
        return (current_user.id, current_user.role)
    return None


class AnonymousPages:
    """WSGI middleware in front of Flask: a GET without a cookie is nobody logged in, so a page
    kept for nobody can be sent before Flask even builds a request.

    With no page kept for the URL it costs nothing; with one, one version read. When the version
    has moved on, Flask builds the page, reusing the version read here. (This app knows its users
    by the session cookie only; an app that also took tokens in a header would check it here.)
    """

    def __init__(self, wsgi_app, cache, engine):
        self.wsgi_app = wsgi_app
        self.cache = cache
        self.engine = engine

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") == "GET" and "HTTP_COOKIE" not in environ:
            page = self.cache.get(place_of(environ, None))
            if page is not None:
                version = read_version(self.engine)
                if version == page.version:
                    # The page of nobody logged in: it varies with the Cookie header, as Flask
                    # says in every answer that looked at the session.
                    extra = [("Vary", "Cookie"), ("Content-Length", str(len(page.body)))]
                    start_response("200 OK", [*page.headers, *extra])
                    return [page.body]
                environ[VERSION_KEY] = version
        return self.wsgi_app(environ, start_response)


def serve_cached_page():
    """Before a GET of a cached list: answer with the kept page when its version is the current
    one; otherwise note where to keep the page this request builds."""
    if request.method != "GET" or request.endpoint not in CACHED_ENDPOINTS:
        return None
    # Read before the page is built (or by AnonymousPages, earlier still).
    version = request.environ.get(VERSION_KEY) or current_version()
    if version is None:
        return None
    place = place_of(request.environ, current_caller())
    page = current_app.extensions["page_cache"].get(place)
    if page is not None and page.version == version:
        return current_app.response_class(page.body, status=200, headers=page.headers)
    g.page_cache_place = (place, version)
    return None


def keep_page(response):
    """After a cached list was built: keep it for the place and version noted before."""
    noted = g.pop("page_cache_place", None)
    if noted is not None and response.status_code == 200 and not response.is_streamed:
        place, version = noted
        headers = [(name, response.headers[name]) for name in CACHED_HEADERS
                   if name in response.headers]
        page = Page(version, response.get_data(), headers)
        current_app.extensions["page_cache"].put(place, page)
    return response


def init_app(app):
    """Bump the version on every write; with ``PAGE_CACHE_SIZE`` > 0, cache the list pages."""
    if not event.contains(DataVersion.__table__, "after_create", insert_first_version):
        event.listen(DataVersion.__table__, "after_create", insert_first_version)
    # On db.session, that is on the class of every session Flask-SQLAlchemy makes: every app.
    if not event.contains(db.session, "before_flush", bump_before_flush):
        event.listen(db.session, "before_flush", bump_before_flush)
        event.listen(db.session, "do_orm_execute", bump_on_bulk_statement)
    size = app.config["PAGE_CACHE_SIZE"]
    if size > 0:
        cache = app.extensions["page_cache"] = PageCache(size)
        engine = app.extensions["page_cache_engine"] = version_engine(app)
        app.before_request(serve_cached_page)
        app.after_request(keep_page)
        app.wsgi_app = AnonymousPages(app.wsgi_app, cache, engine)
