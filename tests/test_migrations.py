"""The Alembic chain matches the models and runs down and up again."""

from __future__ import annotations

from alembic import command

from critdesk.migration import alembic_config


def test_models_and_migrations_agree(database_url: str) -> None:
    command.check(alembic_config(database_url))


def test_the_chain_downgrades_and_upgrades_cleanly(database_url: str) -> None:
    config = alembic_config(database_url)
    command.downgrade(config, "base")
    command.upgrade(config, "head")
    command.check(config)
