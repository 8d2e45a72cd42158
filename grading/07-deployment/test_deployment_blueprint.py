"""The Render Blueprint, render.yaml in the lab folder, read as YAML."""

import re

import pytest
import yaml


@pytest.fixture
def blueprint(lab_dir):
    """render.yaml as data, with its one web service and its one database."""
    path = lab_dir / "render.yaml"
    assert path.exists(), "render.yaml is missing from the lab folder"
    data = yaml.safe_load(path.read_text()) or {}
    services = [s for s in data.get("services") or [] if s.get("type") == "web"]
    databases = data.get("databases") or []
    assert len(services) == 1, f"render.yaml should declare one web service: {data}"
    assert len(databases) == 1, f"render.yaml should declare one database: {data}"
    return services[0], databases[0]


def environment(service):
    """The web service's envVars by key."""
    return {entry.get("key"): entry for entry in service.get("envVars") or []}


@pytest.mark.grade(
    points=2,
    hint="Set plan: free on the web service AND on the database: without it Render creates "
    "paid instances.",
)
def test_blueprint_uses_free_plans(blueprint):
    service, database = blueprint
    assert service.get("runtime") == "python", f"runtime: {service.get('runtime')!r}"
    assert service.get("plan") == "free", f"web service plan: {service.get('plan')!r}"
    assert database.get("plan") == "free", f"database plan: {database.get('plan')!r}"


@pytest.mark.grade(
    points=2,
    hint="Run `flask --app bookshelf db upgrade` in buildCommand (or before gunicorn in "
    "startCommand), not in preDeployCommand (paid services only); start with gunicorn wsgi:app.",
)
def test_blueprint_migrates_and_starts_gunicorn(blueprint, lab_dir):
    service, _ = blueprint
    build, start = service.get("buildCommand") or "", service.get("startCommand") or ""
    assert "preDeployCommand" not in service, "preDeployCommand does not run on a free service"
    assert "db upgrade" in build or "db upgrade" in start, (
        f"no `flask db upgrade` in buildCommand {build!r} or startCommand {start!r}"
    )
    assert "pip install" in build, f"buildCommand should install the requirements: {build!r}"
    assert re.search(r"\bgunicorn\b.*\bwsgi:app\b", start), f"startCommand: {start!r}"
    requirements = (lab_dir / "requirements.txt").read_text().lower()
    for package in ("gunicorn", "psycopg", "flask-migrate"):
        assert package in requirements, f"requirements.txt lacks {package}"


@pytest.mark.grade(
    points=2,
    hint="envVars: PYTHON_VERSION pinned (for example \"3.11.11\"), DATABASE_URL fromDatabase "
    "(the database's name, property connectionString), SECRET_KEY with generateValue: true, "
    "and no debug flag.",
)
def test_blueprint_environment(blueprint):
    service, database = blueprint
    env = environment(service)
    version = str((env.get("PYTHON_VERSION") or {}).get("value", ""))
    assert re.fullmatch(r"3\.\d+\.\d+", version), f"PYTHON_VERSION should be pinned: {version!r}"
    source = (env.get("DATABASE_URL") or {}).get("fromDatabase") or {}
    assert source.get("name") == database.get("name"), f"DATABASE_URL fromDatabase: {source}"
    assert source.get("property") == "connectionString", f"DATABASE_URL fromDatabase: {source}"
    assert (env.get("SECRET_KEY") or {}).get("generateValue") is True, env.get("SECRET_KEY")
    for flag in ("FLASK_DEBUG", "DEBUG"):
        value = str((env.get(flag) or {}).get("value", "")).lower()
        assert value in ("", "0", "false"), f"{flag}={value}: debug must be off in production"


@pytest.mark.grade(
    points=1,
    hint="healthCheckPath: /healthz, so Render waits for a healthy instance before it switches.",
)
def test_blueprint_health_check_path(blueprint):
    service, _ = blueprint
    assert service.get("healthCheckPath") == "/healthz", service.get("healthCheckPath")
