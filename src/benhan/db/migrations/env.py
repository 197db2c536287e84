"""Alembic environment: uses our engine factory so SQLite pragmas and the psycopg driver apply."""

from __future__ import annotations

from alembic import context

from benhan.db.engine import make_engine
from benhan.db.schema import metadata

config = context.config


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
