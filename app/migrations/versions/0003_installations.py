"""Installations and the repositories they reach.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "installation",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("account_login", sa.String(256), nullable=False),
        sa.Column("account_type", sa.String(32), nullable=True),
        sa.Column("repository_selection", sa.String(16), nullable=True),
        sa.Column("suspended_at", sa.DateTime(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "installation_repository",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("installation_id", sa.BigInteger(), nullable=False),
        sa.Column("full_name", sa.String(256), nullable=False),
        sa.Column("repository_id", sa.BigInteger(), nullable=True),
        sa.Column("added_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ux_installation_repository", "installation_repository", ["installation_id", "full_name"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_installation_repository", table_name="installation_repository")
    op.drop_table("installation_repository")
    op.drop_table("installation")
