"""How Alembic runs this app's migrations: with the app's own database and models.

``flask db ...`` (Flask-Migrate) runs this file inside the app context of ``create_app()``, so the
database URL is the app's (``DATABASE_URL`` on Render, SQLite in development) and the models'
metadata is what ``flask db migrate`` compares the database with.
"""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
fileConfig(config.config_file_name)
logger = logging.getLogger("alembic.env")

migrate_extension = current_app.extensions["migrate"]
engine = migrate_extension.db.engine
target_metadata = migrate_extension.db.metadata
# "%" is special in Alembic's ini syntax; a password may hold one.
url = engine.url.render_as_string(hide_password=False).replace("%", "%%")
config.set_main_option("sqlalchemy.url", url)


def skip_empty_revisions(context, revision, directives):
    """Write no new revision when `flask db migrate` finds nothing to change."""
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def run_migrations_offline():
    """`flask db upgrade --sql`: print the SQL instead of running it."""
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run the migrations on a connection to the app's database, in one transaction."""
    options = dict(migrate_extension.configure_args)
    options.setdefault("process_revision_directives", skip_empty_revisions)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, **options)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
