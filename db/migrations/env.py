"""Alembic environment: runs on a connection handed over by ``db.migrate``."""

from __future__ import annotations

from alembic import context

from db.models import Base

target_metadata = Base.metadata
connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - always called through db.migrate
    raise RuntimeError("run migrations with `kcbot db upgrade`")

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    # SQLite cannot ALTER most things in place: batch mode copies the table.
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()
