"""What :meth:`.Auditor.run_migrations` does around a run's steps: the
table readied and the drift check before them; the rows held for the
run's end stamped with the schema; a failed attempt recorded; the
schema's snapshot and the digest after them; the lock released.
"""
import functools
from typing import TYPE_CHECKING
from typing import Any
from typing import Callable
from typing import Optional

from . import compat
from . import digest
from . import facts
from . import failure
from . import record
from . import values
from .drift import SchemaWatch
from .locks import release_lock
from .writer import RowWriter

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection

#: A row: column name -> value.
Row = dict[str, Any]


def run_migrations(context: Any, kw: dict[str, Any], *, table: 'Table',
                   writer: RowWriter,
                   schema_watch: Optional[SchemaWatch],
                   record_failures: bool, make_row: Callable[..., Row],
                   row_values: Any) -> None:
    """Run the migrations of ``env.py`` (see :meth:`.Auditor.run_migrations`)
    for an Auditor writing to ``table`` with ``writer``, watching the
    schema with ``schema_watch`` (or None), building rows with ``make_row``
    from ``row_values`` (its ``make_row`` argument)."""
    if context.is_offline_mode():
        with context.begin_transaction():
            context.run_migrations(**kw)
        return
    ctx = context.get_context()
    run = facts.run_of(ctx)
    run.start()
    callers_transaction = ctx.connection.in_transaction()
    # Until it returns, a commit's rows are emitted after the COMMIT.
    writer.events.run_started()
    try:
        writer.events.follow(ctx.connection)
        writer.maker.complete_now(ctx)
        # Commands that only read (alembic current...) write nothing.
        migrates = compat.migrates(ctx)
        watch = schema_watch if migrates else None
        if watch is not None:
            watch.check(ctx, not callers_transaction, writer.write,
                        _user_version_of(watch, row_values, ctx, kw))
    except BaseException:
        writer.events.run_ended()
        raise
    run.start()  # the first step's duration leaves the check out
    try:
        with context.begin_transaction():
            context.run_migrations(**kw)
            if watch is not None and _stamp_held_rows(writer, watch, ctx):
                run.schema_recorded = True
    except BaseException as error:
        if record_failures and not isinstance(error, GeneratorExit):
            failure.record_attempt(
                ctx, error, kw, callers_transaction, make_row,
                functools.partial(_write_failed_attempt, writer,
                                  schema_watch),
                table.name)
            if isinstance(error, Exception) and writer.chain and migrates:
                digest.log_digest(ctx.connection, table,
                                  not callers_transaction,
                                  failure.RECORD_TIMEOUT)
        raise
    else:
        if watch is not None and not (
                run.schema_recorded and
                run.steps_done in (0, run.steps_planned)):
            # The steps committed one by one: a row of its own.
            watch.record(ctx, not callers_transaction, writer.write,
                         _user_version_of(watch, row_values, ctx, kw),
                         first_only=run.steps_done == 0)
        if writer.chain is not None and migrates:
            digest.log_digest(ctx.connection, table,
                              not callers_transaction)
    finally:
        if watch is not None:
            watch.end(ctx.connection)
        if not callers_transaction:
            release_lock(ctx.connection)
        writer.events.run_ended()


def _stamp_held_rows(writer: RowWriter, watch: SchemaWatch,
                     ctx: Any) -> bool:
    """Give the rows held for the run's end the schema's hash; False
    where none are held (they were written step by step)."""
    # Taken out first: the snapshot's savepoint would write them.
    rows = writer.take_held(ctx.connection)
    if not rows:
        return False
    stamped = watch.stamp_rows(ctx.connection, rows)
    writer.write(ctx.connection, rows)
    return stamped


def _user_version_of(watch: SchemaWatch, row_values: Any, ctx: Any,
                     run_args: Any) -> Any:
    """The user version for a row that is no step (see
    :func:`.record.user_version_without_step`)."""
    return record.user_version_without_step(
        row_values, watch.names[values.USER_VERSION_COLUMN], ctx, run_args)


def _write_failed_attempt(writer: RowWriter, watch: Optional[SchemaWatch],
                          connection: 'Connection', ctx: Any,
                          row: Row) -> None:
    """Write the row of a failed attempt (see :mod:`.failure`)."""
    writer.ready(ctx, recheck=True)
    if watch is not None:
        # DDL a failed run left applied (MySQL) is no drift.
        row[values.SCHEMA_HASH_COLUMN] = \
            watch.failed_attempt_hash(connection, ctx)
    # In the caller's transaction, rows held for the steps before
    # come first.
    writer.write_held(connection)
    writer.write(connection, [row])
