"""The lab server compiles a URL rule's builder once per process, and builds the same URLs."""

import pytest
from flask import Flask, url_for
from werkzeug.routing import BaseConverter
from werkzeug.routing.rules import Rule

from studyguide.grading import lab_server


def shout_converter(suffix):
    """A converter whose ``to_url`` changes the value, so a builder must call the rule's own."""

    class ShoutConverter(BaseConverter):
        def to_url(self, value):
            return super().to_url(str(value).upper() + suffix)

    return ShoutConverter


def make_app(suffix):
    """An app with converters, defaults, a default for a variable, and a query string."""
    app = Flask(__name__)
    app.config["SERVER_NAME"] = "books.test"
    app.url_map.converters["shout"] = shout_converter(suffix)

    def view(**_values):
        return ""

    app.add_url_rule("/books", "books", view)
    app.add_url_rule("/books/<int:book_id>", "book", view)
    app.add_url_rule("/files/<path:name>", "file", view)
    app.add_url_rule("/shout/<shout:word>", "shout", view)
    app.add_url_rule("/pages", "pages", view, defaults={"page": 1})
    app.add_url_rule("/pages/<int:page>", "pages", view)
    app.add_url_rule("/fixed", "fixed", view, defaults={"kind": "all"})
    app.add_url_rule("/covers/<int:size>/<name>", "cover", view, defaults={"size": 100})
    app.add_url_rule("/", "home", view, subdomain="admin")
    return app


def urls(app):
    """Every URL the app builds for a fixed set of endpoints and values."""
    calls = [("books", {}), ("books", {"sort": "title", "page": 2}), ("book", {"book_id": 7}),
             ("file", {"name": "a b/c.txt"}), ("shout", {"word": "hi"}), ("pages", {}),
             ("pages", {"page": 3}), ("fixed", {}), ("fixed", {"q": "x y"}),
             ("cover", {"name": "big", "size": 100}), ("home", {})]
    with app.app_context():
        return [url_for(endpoint, _external=endpoint == "home", **values)
                for endpoint, values in calls]


@pytest.fixture
def reused(monkeypatch):
    """Builders reused for this test only (the class attribute is put back afterwards)."""
    monkeypatch.setattr(Rule, "_compile_builder", Rule._compile_builder)
    lab_server.reuse_url_builders()


def test_reused_builders_build_the_same_urls():
    expected = {suffix: urls(make_app(suffix)) for suffix in ("!", "?")}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Rule, "_compile_builder", Rule._compile_builder)
        lab_server.reuse_url_builders()
        for _ in range(2):  # the second app of each kind reuses the first one's builders
            for suffix in ("!", "?", "!"):
                assert urls(make_app(suffix)) == expected[suffix]
    assert expected["!"][4] == "/shout/HI!" and expected["?"][4] == "/shout/HI%3F"


def test_identical_rules_share_one_compiled_builder(reused):
    first, second = make_app("!"), make_app("?")

    def builder(app, endpoint):
        rule = next(iter(app.url_map.iter_rules(endpoint)))
        return rule._build.__func__

    assert builder(first, "book") is builder(second, "book")
    assert builder(first, "books") is not builder(first, "book")
    # the same text with another converter: one builder, which calls each rule's converter
    assert builder(first, "shout") is builder(second, "shout")
    # a default for one of the rule's variables is compiled into the code: never shared
    assert builder(first, "cover") is not builder(second, "cover")
