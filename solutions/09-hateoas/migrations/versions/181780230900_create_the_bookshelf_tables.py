"""Create the Bookshelf tables: authors, users, books and reviews, with their constraints.

Revision ID: 181780230900
Revises:
Create Date: 2026-11-26 05:41:39

Written by `flask db migrate` from the models, then read and tidied by hand. Every constraint
has the name the naming convention in db.py gives it, so a later migration can drop or change it.
"""

import sqlalchemy as sa
from alembic import op

# Alembic orders the migrations by these identifiers.
revision = "181780230900"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    """Create the four tables, parents before the tables that refer to them."""
    op.create_table(
        "authors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("bio", sa.Text(), nullable=True),
        sa.CheckConstraint("length(trim(name)) > 0", name=op.f("ck_authors_name_not_blank")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authors")),
        sa.UniqueConstraint("name", name=op.f("uq_authors_name")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("role", sa.String(length=20), server_default="reader", nullable=False),
        sa.CheckConstraint(
            "role IN ('reader', 'librarian', 'admin')", name=op.f("ck_users_role_known")
        ),
        sa.CheckConstraint(
            "length(trim(username)) > 0", name=op.f("ck_users_username_not_blank")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "books",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("isbn", sa.String(length=13), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("length(trim(title)) > 0", name=op.f("ck_books_title_not_blank")),
        sa.CheckConstraint("year BETWEEN 1450 AND 2100", name=op.f("ck_books_year_sensible")),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["authors.id"],
            name=op.f("fk_books_author_id_authors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_books")),
        sa.UniqueConstraint("isbn", name=op.f("uq_books_isbn")),
    )
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name=op.f("ck_reviews_rating_range")),
        sa.ForeignKeyConstraint(
            ["book_id"], ["books.id"], name=op.f("fk_reviews_book_id_books"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_reviews_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
        sa.UniqueConstraint("user_id", "book_id", name=op.f("uq_reviews_user_id_book_id")),
    )


def downgrade():
    """Drop the four tables, children first."""
    op.drop_table("reviews")
    op.drop_table("books")
    op.drop_table("users")
    op.drop_table("authors")
