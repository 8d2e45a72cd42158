"""Hypermedia controls: the links that tell a client where it can go next and what it may do.

Every resource the API sends carries ``_links`` in the style of HAL: a map from a link relation
(``self``, ``collection``, ``author``, ``edit``, ...) to a link object ``{"href": ...}``. A link
without ``"method"`` is read with GET; an action link names the method it needs, and appears
only when the current user may take that action::

    {"id": 1, "title": "Kindred", ...,
     "_links": {"self": {"href": "/books/1"}, "collection": {"href": "/books"},
                "author": {"href": "/authors/1"}, "reviews": {"href": "/reviews?book_id=1"},
                "edit": {"href": "/books/1", "method": "PATCH"},
                "delete": {"href": "/books/1", "method": "DELETE"}}}

Collections stay JSON arrays, one page at a time: ``?page=`` and ``?per_page=`` choose the page,
and the ``Link`` header (RFC 8288) and ``X-Total-Count`` say where the other pages are.
"""

from flask import abort, current_app, g, request, url_for
from flask_login import current_user

from .db import db

# A page holds DEFAULT_PER_PAGE rows unless ?per_page= asks for another size, never more than
# MAX_PER_PAGE: without a cap, ?per_page=1000000 would load a whole table into one response.
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
# A page number longer than this is no page of any table this API will ever hold.
PAGE_DIGITS = 9
# The id that href() asks url_for for once, to learn where an endpoint's URL puts its id.
PLACEHOLDER_ID = 1234567890


# --- links and who may follow them -------------------------------------------------------------


def link(endpoint, method=None, **values):
    """A link object to ``endpoint`` (``url_for`` arguments in ``values``); ``method`` for an
    action that is not a GET.

    Hrefs are paths (``/books/1``), resolved against the URL the client called: they stay right
    behind any proxy, where a full URL would need ProxyFix to know the public scheme and host.
    """
    found = {"href": href(endpoint, **values)}
    if method is not None:
        found["method"] = method
    return found


def href(endpoint, **values):
    """``url_for(endpoint, **values)``, built once per request for the links a page repeats.

    A page of 20 books links each to itself, its author, its reviews and the collection: 80
    hrefs from four endpoints, differing at most by one id. So the first href of an endpoint
    (with no argument, or with one id) comes from ``url_for`` and is kept for this request in
    ``g``: as it is, or split around a placeholder id. Every other id is written between the two
    halves. An id is an int, which the route's converter and the query string both write as its
    digits, so the href is the one ``url_for`` gives.
    """
    if len(values) > 1 or any(type(value) is not int for value in values.values()):
        return url_for(endpoint, **values)
    templates = g.setdefault("href_templates", {})
    key = (endpoint, *values)
    if key not in templates:
        placeholders = dict.fromkeys(values, PLACEHOLDER_ID)
        parts = url_for(endpoint, **placeholders).split(str(PLACEHOLDER_ID))
        # One half for no argument, two for one id; more (the placeholder's digits also in the
        # script root, say) and this endpoint is built by url_for every time.
        templates[key] = parts if len(parts) == len(values) + 1 else None
    parts = templates[key]
    if parts is None:
        return url_for(endpoint, **values)
    if not values:
        return parts[0]
    [value] = values.values()
    return f"{parts[0]}{value}{parts[1]}"


def login_disabled():
    """Whether the app runs with LOGIN_DISABLED, where every request is let through."""
    return current_app.config.get("LOGIN_DISABLED", False)


def may(role):
    """Whether the current user has ``role`` or more (everybody may when login is disabled)."""
    if login_disabled():
        return True
    return current_user.is_authenticated and current_user.has_role(role)


def is_me(user_id):
    """Whether the current user has id ``user_id`` (everybody is when login is disabled)."""
    if login_disabled():
        return True
    return current_user.is_authenticated and current_user.id == user_id


def with_links(data, links):
    """``data`` (a resource's dict) with its ``_links`` added."""
    return {**data, "_links": links}


def resources(schema, rows, links_of):
    """``rows`` as a list of resources: the schema's dump of each row and ``links_of(row)``.

    One ``dump(rows, many=True)`` runs the schema's hooks once for the whole page, not per row.
    """
    dumped = schema.dump(rows, many=True)
    return [with_links(data, links_of(row)) for data, row in zip(dumped, rows)]


# --- the links of each kind of resource --------------------------------------------------------


def user_links(user):
    """The links of a user: itself; the collection, a role change and a deletion for admins."""
    # TODO(09-hateoas): self ("user"); for an admin (may("admin")) also collection ("users"),
    # edit (PATCH) and delete (DELETE).
    ### BEGIN SOLUTION stub: return {}
    links = {"self": link("user", user_id=user.id)}
    if may("admin"):
        links["collection"] = link("users")
        links["edit"] = link("user", "PATCH", user_id=user.id)
        links["delete"] = link("user", "DELETE", user_id=user.id)
    return links
    ### END SOLUTION


def author_links(author):
    """The links of an author: itself, the collection, their books; edit and delete for
    librarians."""
    # TODO(09-hateoas): self, collection ("authors") and books (the "books" collection filtered
    # with author_id=...); edit (PATCH) and delete (DELETE) only when may("librarian").
    ### BEGIN SOLUTION stub: return {}
    links = {
        "self": link("author", author_id=author.id),
        "collection": link("authors"),
        "books": link("books", author_id=author.id),
    }
    if may("librarian"):
        links["edit"] = link("author", "PATCH", author_id=author.id)
        links["delete"] = link("author", "DELETE", author_id=author.id)
    return links
    ### END SOLUTION


def book_links(book):
    """The links of a book: itself, the collection, its author and its reviews; edit and delete
    for librarians; writing a review for anybody logged in."""
    # TODO(09-hateoas): self, collection, author and reviews (the "reviews" collection filtered
    # with book_id=...); edit and delete when may("librarian"); "create-review" (POST to the
    # reviews collection) when may("reader").
    ### BEGIN SOLUTION stub: return {}
    links = {
        "self": link("book", book_id=book.id),
        "collection": link("books"),
        "author": link("author", author_id=book.author_id),
        "reviews": link("reviews", book_id=book.id),
    }
    if may("librarian"):
        links["edit"] = link("book", "PATCH", book_id=book.id)
        links["delete"] = link("book", "DELETE", book_id=book.id)
    if may("reader"):
        links["create-review"] = link("reviews", "POST")
    return links
    ### END SOLUTION


def review_links(review):
    """The links of a review: itself, the collection, its book and the book's other reviews;
    edit for its writer; delete for its writer or an admin; the writer's account for them and
    for admins."""
    # TODO(09-hateoas): self, collection, book, and reviews (the reviews of the same book);
    # "writer" (the user) and edit (PATCH) only for the writer (is_me), "writer" also for an
    # admin; delete for the writer or an admin.
    ### BEGIN SOLUTION stub: return {}
    links = {
        "self": link("review", review_id=review.id),
        "collection": link("reviews"),
        "book": link("book", book_id=review.book_id),
        "reviews": link("reviews", book_id=review.book_id),
    }
    writer = is_me(review.user_id)
    if writer or may("admin"):
        links["writer"] = link("user", user_id=review.user_id)
        links["delete"] = link("review", "DELETE", review_id=review.id)
    if writer:
        links["edit"] = link("review", "PATCH", review_id=review.id)
    return links
    ### END SOLUTION


def user_resource(user):
    """A user as the API sends it: its fields and its links."""
    return with_links(user.to_dict(), user_links(user))


# --- pages of a collection ---------------------------------------------------------------------


def page_number(name, default):
    """The query-string argument ``name`` as a whole number from 1, or ``default`` when absent.

    Anything else stops the request with a 400 problem naming the argument, never a 500.
    """
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > PAGE_DIGITS or int(raw) < 1:
        abort(400, f"?{name}= must be a whole number from 1.")
    return int(raw)


def page_request():
    """The page (default 1) and the page size (default DEFAULT_PER_PAGE) the client asks for."""
    # TODO(09-hateoas): read ?page= (default 1) and ?per_page= (default DEFAULT_PER_PAGE) with
    # page_number, which answers 400 for anything but a whole number from 1.
    ### BEGIN SOLUTION stub: return 1, MAX_PER_PAGE
    return page_number("page", 1), page_number("per_page", DEFAULT_PER_PAGE)
    ### END SOLUTION


def page_url(number, per_page):
    """The URL of page ``number`` of the collection this request reads, with its other
    arguments (``?q=``, ``?book_id=``...) kept."""
    kept = {
        name: value
        for name, value in request.args.items()
        if name not in ("page", "per_page", "limit")
    }
    arguments = {"page": number, "per_page": per_page, **kept, **(request.view_args or {})}
    return url_for(request.endpoint, **arguments)


def page_links(pagination):
    """The first, prev, next and last pages as a map from relation to URL.

    prev is absent on the first page, next on the last; an empty collection has one page.
    """
    # TODO(09-hateoas): first is page 1, last is pagination.pages (at least 1); prev and next
    # only when pagination.has_prev / has_next (pagination.prev_num, pagination.next_num).
    # Build each URL with page_url(number, pagination.per_page).
    ### BEGIN SOLUTION stub: return {}
    per_page = pagination.per_page
    links = {"first": page_url(1, per_page)}
    if pagination.has_prev:
        links["prev"] = page_url(pagination.prev_num, per_page)
    if pagination.has_next:
        links["next"] = page_url(pagination.next_num, per_page)
    links["last"] = page_url(max(pagination.pages, 1), per_page)
    return links
    ### END SOLUTION


def link_header(links):
    """The links as one RFC 8288 ``Link`` header: ``</books?page=2&per_page=20>; rel="next"``."""
    return ", ".join(f'<{url}>; rel="{relation}"' for relation, url in links.items())


def paginated(query):
    """Run one page of ``query``: the page's rows and the headers that describe the pages.

    A page after the last one is a 404 problem that names the last page.
    """
    page, per_page = page_request()
    # TODO(09-hateoas): db.paginate the query with max_per_page=MAX_PER_PAGE and error_out=False
    # (the errors are ours to answer); abort(404) for a page after the last one (page 1 exists
    # even in an empty collection).
    ### BEGIN SOLUTION stub: pagination = db.paginate(query, page=1, per_page=MAX_PER_PAGE)
    pagination = db.paginate(
        query, page=page, per_page=per_page, max_per_page=MAX_PER_PAGE, error_out=False
    )
    if page > max(pagination.pages, 1):
        abort(404, f"There is no page {page}; the last page is {max(pagination.pages, 1)}.")
    ### END SOLUTION
    headers = {"X-Total-Count": str(pagination.total)}
    links = page_links(pagination)
    if links:
        headers["Link"] = link_header(links)
    return pagination.items, headers


def api_links():
    """The links of the API root: the collections, and what the current user can do next."""
    # TODO(09-hateoas): self ("index"), authors, books and reviews; users for an admin; signup
    # and login (both POST) for nobody logged in; me (GET) and logout (POST) for a logged-in
    # user; create-author and create-book (POST to the collections) for a librarian.
    ### BEGIN SOLUTION stub: return {}
    links = {
        "self": link("index"),
        "authors": link("authors"),
        "books": link("books"),
        "reviews": link("reviews"),
    }
    if not login_disabled() and current_user.is_authenticated:
        links["me"] = link("auth.me")
        links["logout"] = link("auth.logout", "POST")
    else:
        links["signup"] = link("auth.signup", "POST")
        links["login"] = link("auth.login", "POST")
    if may("admin"):
        links["users"] = link("users")
    if may("librarian"):
        links["create-author"] = link("authors", "POST")
        links["create-book"] = link("books", "POST")
    return links
    ### END SOLUTION
