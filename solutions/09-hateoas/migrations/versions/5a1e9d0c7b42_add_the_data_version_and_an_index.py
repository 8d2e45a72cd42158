"""Add the data version stamp the page cache relies on, and an index on books.author_id.

Revision ID: 5a1e9d0c7b42
Revises: 181780230900
Create Date: 2026-11-26 11:20:00

``data_version`` holds one row; every transaction that writes the library adds one to its
``version`` (bookshelf/page_cache.py). The index lets "the books of this author" skip a scan.
"""

import time

import sqlalchemy as sa
from alembic import op

revision = "5a1e9d0c7b42"
down_revision = "181780230900"
branch_labels = None
depends_on = None


def upgrade():
    """Create data_version with its one row, then index books.author_id."""
    data_version = op.create_table(
        "data_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_data_version_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_version")),
    )
    # The clock in microseconds, as page_cache.first_version() starts a new table.
    op.bulk_insert(data_version, [{"id": 1, "version": time.time_ns() // 1000}])
    with op.batch_alter_table("books") as batch_op:
        batch_op.create_index(batch_op.f("ix_books_author_id"), ["author_id"], unique=False)


def downgrade():
    """Drop the index and the data_version table."""
    with op.batch_alter_table("books") as batch_op:
        batch_op.drop_index(batch_op.f("ix_books_author_id"))
    op.drop_table("data_version")
