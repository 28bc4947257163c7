import logging
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import engine_from_config
from sqlalchemy import pool

import audit_alembic

config = context.config
# Programs that set up logging themselves set attributes["configure_logger"]
# to False (see Alembic's cookbook).
if config.config_file_name is not None and config.attributes.get(
    "configure_logger", True
):
    fileConfig(config.config_file_name)
    # Audit-Alembic's INFO lines beside Alembic's own (the chain's digest at
    # the end of each run: a copy of it outside the database), unless the
    # file sets a level for them.
    if logging.getLogger("audit_alembic.auditor").level == logging.NOTSET:
        logging.getLogger("audit_alembic.auditor").setLevel(logging.INFO)

target_metadata = None  # or your models' MetaData, for autogenerate

# One row per applied step in table "alembic_version_history", with who ran
# it, where, how long it took and which script ran (details=True).  A program
# that runs Alembic through its API may pass an Auditor of its own (False
# for none), a connection and more configure() options in config.attributes.
auditor = config.attributes.get("auditor")
if auditor is None:
    auditor = audit_alembic.Auditor.create(
        os.environ.get("APP_VERSION", "dev"), details=True
    )
options = dict(config.attributes.get("configure_options", {}))
if auditor:
    options["on_version_apply"] = auditor.listen


def run_migrations_offline():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **options,
    )
    run_migrations()


def run_migrations_on(connection):
    context.configure(
        connection=connection, target_metadata=target_metadata, **options
    )
    run_migrations()


def run_migrations():
    if auditor:
        # Like the two lines below, and records a failed attempt too.
        auditor.run_migrations(context)
    else:
        with context.begin_transaction():
            context.run_migrations()


def run_migrations_online():
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations_on(connection)
        return
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as connection:
        run_migrations_on(connection)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
