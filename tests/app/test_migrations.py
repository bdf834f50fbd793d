"""The Alembic migrations and the sqlmodel tables describe the same schema, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import app.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from app.migrate import current_revision, head_revision


def test_migrations_reach_head_and_match_the_models(engine) -> None:
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, SQLModel.metadata)
    # Only the Alembic bookkeeping table may differ.
    assert [d for d in differences if not (d[0] == "remove_table" and d[1].name == "alembic_version")] == []
