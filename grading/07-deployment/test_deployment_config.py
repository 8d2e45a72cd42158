"""Configuration from the environment: Render's database URL, and no start without a secret."""

import pytest

RENDER_URL = "postgres://bookshelf:s3cret@dpg-example-a.oregon-postgres.render.com:5432/bookshelf"


@pytest.mark.grade(
    points=2,
    hint="normalise_database_url in bookshelf/config.py: postgres://... and postgresql://... "
    "become postgresql+psycopg://... (the rest of the URL unchanged); every other URL stays "
    "as it is.",
)
def test_render_database_url_is_normalised_to_psycopg(call):
    expected = RENDER_URL.replace("postgres://", "postgresql+psycopg://", 1)
    assert call("config.normalise_database_url", RENDER_URL) == expected
    bare = "postgresql://me@localhost/bookshelf"
    assert call("config.normalise_database_url", bare) == "postgresql+psycopg://me@localhost/bookshelf"
    for unchanged in ("sqlite:///bookshelf.sqlite", "postgresql+psycopg://me@localhost/books"):
        assert call("config.normalise_database_url", unchanged) == unchanged


@pytest.mark.grade(
    points=3,
    hint="Outside debug and testing, create_app must refuse to start without SECRET_KEY: raise "
    "an error whose message names SECRET_KEY and says how to set it. A development key is "
    "only for --debug.",
)
def test_missing_secret_key_stops_the_app_with_a_clear_error(serve, flask_command, tmp_path):
    database = f"sqlite:///{tmp_path / 'nosecret.sqlite'}"
    served, failure = serve(DATABASE_URL=database)
    assert served is None, (
        "gunicorn served the app without a SECRET_KEY: in production it must refuse to start"
    )
    assert "SECRET_KEY" in failure, f"the start-up error should name SECRET_KEY:\n{failure}"
    command = flask_command(["routes"], DATABASE_URL=database)
    assert command.returncode != 0 and "SECRET_KEY" in command.output, (
        f"`flask routes` without SECRET_KEY should fail and name it:\n{command!r}"
    )
    development = flask_command(["--debug", "routes"], DATABASE_URL=database)
    assert development.returncode == 0, (
        f"with --debug the app should start with a development key:\n{development!r}"
    )

