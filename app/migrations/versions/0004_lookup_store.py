"""The lookup API's store: artifact reports, graph edges, webhook subscriptions.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "artifact_report",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("key", sa.String(2100), nullable=False),
        sa.Column("name", sa.String(2100), nullable=False),
        sa.Column("version", sa.String(128), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("confidence", sa.String(8), nullable=False),
        sa.Column("threat_count", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("scanned_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ux_artifact_report_key", "artifact_report", ["origin", "key"], unique=True)
    op.create_index("ix_artifact_report_scanned", "artifact_report", ["scanned_at"])
    op.create_index("ix_artifact_report_score", "artifact_report", ["score"])
    op.create_table(
        "graph_edge",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column("source", sa.String(1000), nullable=False),
        sa.Column("target", sa.String(1000), nullable=False),
        sa.Column("relation", sa.String(64), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_graph_edge_source", "graph_edge", ["source"])
    op.create_index("ix_graph_edge_target", "graph_edge", ["target"])
    op.create_table(
        "webhook_subscription",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("key", sa.String(2100), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("tolerance", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("fired_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_webhook_subscription_artifact", "webhook_subscription", ["origin", "key", "fired_at"])


def downgrade() -> None:
    op.drop_table("webhook_subscription")
    op.drop_table("graph_edge")
    op.drop_table("artifact_report")
