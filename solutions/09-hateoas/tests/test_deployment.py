"""Lab 07: configuration from the environment, migrations, health check, proxy, Blueprint.

These tests need no PostgreSQL server: SQLite stands in for the database. The graders run the
same ideas against a real PostgreSQL server and the app served by gunicorn.
"""

from pathlib import Path

import pytest
import yaml
from bookshelf import create_app
from bookshelf.config import ConfigurationError, normalise_database_url
from flask_migrate import upgrade
from sqlalchemy import inspect

LAB = Path(__file__).resolve().parent.parent


@pytest.fixture
def production_environment(monkeypatch):
    """No debug flag and no secret in the environment, as on a server nobody configured."""
    for name in ("SECRET_KEY", "FLASK_SECRET_KEY", "FLASK_DEBUG", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.grade(
    points=1,
    hint="normalise_database_url: postgres:// and postgresql:// become "
    "postgresql+psycopg://; other URLs stay.",
)
def test_normalise_database_url():
    cases = {
        "postgres://u:p@db.example:5432/books": "postgresql+psycopg://u:p@db.example:5432/books",
        "postgresql://u@localhost/books": "postgresql+psycopg://u@localhost/books",
        "postgresql+psycopg://u@localhost/books": "postgresql+psycopg://u@localhost/books",
        "sqlite:///bookshelf.sqlite": "sqlite:///bookshelf.sqlite",
    }
    for given, expected in cases.items():
        assert normalise_database_url(given) == expected, given


@pytest.mark.grade(
    points=2,
    hint="from_environment copies DATABASE_URL and SECRET_KEY into the config; the URL is "
    "then normalised.",
)
def test_database_url_from_the_environment_is_normalised(production_environment, tmp_path):
    production_environment.setenv("DATABASE_URL", "postgres://u:p@db.example:5432/books")
    production_environment.setenv("SECRET_KEY", "from-the-environment")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db.example:5432/books"
    assert app.config["SECRET_KEY"] == "from-the-environment"


@pytest.mark.grade(
    points=2,
    hint="require_secret_key raises ConfigurationError naming SECRET_KEY outside debug "
    "and testing.",
)
def test_missing_secret_key_stops_create_app(production_environment, tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": url})


@pytest.mark.grade(
    points=1,
    hint="In debug or testing mode a missing SECRET_KEY becomes the development key; "
    "otherwise create_app raises ConfigurationError.",
)
def test_testing_and_debug_get_a_development_key(production_environment, tmp_path):
    # Checked together with the refusal: a stub that always sets a key must not pass.
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": url})
    assert create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url}).config["SECRET_KEY"]
    production_environment.setenv("FLASK_DEBUG", "1")
    assert create_app({"SQLALCHEMY_DATABASE_URI": url}).config["SECRET_KEY"]


@pytest.mark.grade(
    points=2,
    hint='GET /healthz runs SELECT 1 and answers 200 {"status": "ok"} with Cache-Control: '
    'no-store.',
)
def test_health_check_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.grade(
    points=2,
    hint="On SQLAlchemyError /healthz rolls back and answers a 503 problem, never a 500.",
)
def test_health_check_answers_503_when_the_database_is_unreachable(tmp_path):
    # SQLite cannot open a file in a folder that does not exist: the database is "down".
    url = f"sqlite:///{tmp_path / 'missing-folder' / 'db.sqlite'}"
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": url})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 503


@pytest.mark.grade(points=2, hint="Wrap app.wsgi_app in ProxyFix(x_for=1, x_proto=1).")
def test_forwarded_https_makes_redirects_https(client):
    response = client.get("/app", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 308
    assert response.headers["Location"] == "https://localhost/app/"
    assert client.get("/app").headers["Location"] == "http://localhost/app/"


@pytest.mark.grade(
    points=1,
    hint="GET /app/ sends static/index.html (current_app.send_static_file).",
)
def test_front_end_page_is_served_at_app(client):
    response = client.get("/app/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert b'<script src="/static/app.js"' in response.data
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/").is_json, "/ stays the API root"


@pytest.mark.grade(
    points=2,
    hint="Bind Flask-Migrate in db.init_app and fill in upgrade() of the migration.",
)
def test_upgrade_builds_every_table_and_is_idempotent(production_environment, tmp_path):
    url = f"sqlite:///{tmp_path / 'migrated.sqlite'}"
    app = create_app({"SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": url})
    db = app.extensions["sqlalchemy"]
    with app.app_context():
        upgrade()
        upgrade()  # a second run at every deploy changes nothing
        tables = set(inspect(db.engine).get_table_names())
        db.engine.dispose()
    assert {"authors", "books", "users", "reviews", "alembic_version"} <= tables


@pytest.mark.grade(
    points=2,
    hint="After `flask db upgrade`, `flask db check` must find nothing: the migration "
    "builds every table and constraint.",
)
def test_migrations_match_the_models(production_environment, tmp_path):
    url = f"sqlite:///{tmp_path / 'checked.sqlite'}"
    app = create_app({"SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": url})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        app.extensions["sqlalchemy"].engine.dispose()


@pytest.mark.grade(
    points=2,
    hint="render.yaml: plan free twice, db upgrade in the build command, healthCheckPath, "
    "DATABASE_URL and SECRET_KEY.",
)
def test_blueprint_deploys_for_free_with_migrations_and_health_check():
    blueprint = yaml.safe_load((LAB / "render.yaml").read_text())
    service, database = blueprint["services"][0], blueprint["databases"][0]
    assert service["plan"] == "free" and database["plan"] == "free"
    assert "db upgrade" in service["buildCommand"] + service["startCommand"]
    assert "preDeployCommand" not in service
    assert service["healthCheckPath"] == "/healthz"
    env = {entry["key"]: entry for entry in service["envVars"]}
    assert env["DATABASE_URL"]["fromDatabase"]["name"] == database["name"]
    assert env["SECRET_KEY"]["generateValue"] is True
    assert env["PYTHON_VERSION"]["value"].count(".") == 2
