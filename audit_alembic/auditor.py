"""The :class:`Auditor`: the hooks that record each step Alembic applies
(the table: :mod:`.schema` and :mod:`.ddl`; when rows are written:
:mod:`.writer`; the chain: :mod:`.chain`; what happens around a run's
steps: :mod:`.running`).
"""
import logging
from typing import TYPE_CHECKING
from typing import Any
from typing import Callable
from typing import Mapping
from typing import Optional
from typing import Sequence
from typing import TypeVar
from typing import Union

from sqlalchemy import String

from . import dialects
from . import exc
from . import facts
from . import logs
from . import running
from . import schema
from . import values
from .chain import ChainWriter
from .ddl import TableMaker
from .drift import SchemaWatch
from .exc import TableSetupError  # noqa: F401 (importable here, as before)
from .offline import OfflineWriter
from .values import CommonColumnValues
from .writer import RowWriter

if TYPE_CHECKING:
    from sqlalchemy import Column
    from sqlalchemy import MetaData
    from sqlalchemy import Table
    from sqlalchemy.types import TypeEngine

log = logging.getLogger(logs.AUDITOR)

#: A row: column name -> value.
Row = dict[str, Any]
#: What ``make_row`` may be: a callable taking the hook's keyword
#: arguments and returning a row, or column name -> constant or callable.
MakeRow = Union[Callable[..., Mapping[str, Any]], Mapping[str, Any]]
_AuditorT = TypeVar('_AuditorT', bound='Auditor')


class Auditor:
    """Records each step Alembic applies as a row of ``table``.

    :param table: a SQLAlchemy :class:`~sqlalchemy.schema.Table`; it is
        created in the migrated database, if absent, the first time a
        step is recorded there.
    :param make_row: either a callable taking the keyword arguments of
        Alembic's ``on_version_apply`` hook (``ctx``, ``step``, ``heads``,
        ``run_args``) and returning a dict of column values, or a dict
        whose values are constants or such callables.
    :param record_failures: whether :meth:`run_migrations` records a
        failed attempt as a row (``make_row`` then sees a
        :class:`~.failure.FailedAttempt` as the step, and
        :meth:`.DetailColumnValues.status` gives ``'failed'``).
    :param complete_table: whether an existing table lacking some of
        ``table``'s columns or indexes gets them added.
    :param chain: the names of the columns whose values each row's hash
        covers (in the order of :data:`.values.CHAINED`), to chain the
        rows online through column ``row_hash``; None for no chain.
    :param schema_watch: a :class:`.drift.SchemaWatch` recording the
        schema's snapshots and drift in ``table``; None for none.
    :raise .exc.AuditConstructError: if ``make_row`` is neither.

    Pass :attr:`listen` to ``context.configure(on_version_apply=...)``
    in ``env.py``, and call :meth:`run_migrations` there.
    """

    def __init__(self, table: 'Table', make_row: MakeRow,
                 record_failures: bool = False,
                 complete_table: bool = False,
                 chain: Optional[Sequence[str]] = None,
                 schema_watch: Optional[SchemaWatch] = None) -> None:
        if not (callable(make_row) or hasattr(make_row, 'items')):
            raise exc.AuditConstructError(
                'make_row must be a callable or a dict, not %r' % (make_row,))
        self.table = table
        self._make_row = make_row
        # What make_row needs, worked out once.
        if not callable(make_row):
            self._values: list[tuple[str, Any, bool]] = [
                (name, value, callable(value))
                for name, value in make_row.items()]
        self._check_row = schema.row_checker(table)
        self.chain = chain
        self._chain = None if chain is None else ChainWriter(table, chain)
        self.record_failures = record_failures
        self.complete_table = complete_table
        self.schema_watch = schema_watch
        maker = TableMaker(table, complete=complete_table, companions=(
            () if schema_watch is None else (schema_watch.snapshots,)))
        self._maker = maker
        self._offline = OfflineWriter(table)
        self._writer = RowWriter(table, maker, self._chain)
        self._write = self._writer.write
        self._events = self._writer.events

    @classmethod
    def create(cls: type[_AuditorT],
               user_version: Any,
               user_version_nullable: bool = False,
               table_name: str = values.DEFAULT_TABLE_NAME,
               metadata: Optional['MetaData'] = None,
               extra_columns: Sequence[tuple['Column[Any]', Any]] = (),
               user_version_column_name: str = values.USER_VERSION_COLUMN,
               user_version_type: 'TypeEngine[Any]' = String(255),
               direction_column_name: str = values.DIRECTION_COLUMN,
               operation_column_name: str = values.OPERATION_COLUMN,
               alembic_version_separator: str = values.DEFAULT_SEPARATOR,
               alembic_version_column_name: str = values.NEW_VERSION_COLUMN,
               prev_alembic_version_column_name: str = (
                   values.OLD_VERSION_COLUMN),
               change_time_column_name: str = values.CHANGE_TIME_COLUMN,
               details: bool = False,
               schemas: Sequence[str] = ()) -> _AuditorT:
        """Define the standard history table and an Auditor that fills it.

        The table has an integer primary key ``id``; the revision(s) after
        and before each step (several joined by
        ``alembic_version_separator``); the operation type
        (``'migration'`` or ``'stamp'``); the direction (``'up'`` or
        ``'down'``); the user version; and the change time (UTC).

        :param user_version: your application's version, as a constant or
            a callable taking the hook's keyword arguments. ``None`` (or a
            callable returning ``None``) warns with
            :class:`.exc.UserVersionWarning`, unless
            ``user_version_nullable`` is true.
        :param metadata: the :class:`~sqlalchemy.schema.MetaData` to define
            the table in; a new one by default.
        :param extra_columns: a sequence of ``(Column, value)`` pairs, the
            value a constant or a callable like ``user_version``.
        :param details: add the detail columns (``run_id``, ``status``,
            ``db_user``, ``os_user``, ``host``, ``duration_ms``,
            ``script_checksum``, ``message``, ``error``) and indexes on
            the change time and ``run_id``; record failed attempts; and
            add what is missing to an existing table; and record the
            schema after each online run, and drift found at the start of
            the next (see :mod:`.drift`).
        :param schemas: schemas whose tables the snapshots hold besides
            those of the connection's default schema (with ``details``).
        :raise .exc.AuditCreateError: if a column name is used twice.

        The remaining parameters name the table, its columns and the type
        of the user version column.
        """
        names = values.column_names(locals())  # first: the arguments only
        table, column_values = schema.history_table(
            names, table_name, metadata, user_version,
            user_version_nullable, user_version_type,
            alembic_version_separator, extra_columns, details)
        chain = values.chained_names(names) if details else None
        watch = SchemaWatch(table, names, alembic_version_separator,
                            schemas) if details else None
        auditor = cls(table, column_values, record_failures=details,
                      complete_table=details, chain=chain,
                      schema_watch=watch)
        auditor._events.name_roles(names)
        return auditor

    def make_row(self, **kw: Any) -> Row:
        """Build the row for one step from the hook's keyword arguments.

        :raise .exc.AuditRuntimeError: if a callable ``make_row`` does not
            return a dict, if the row names keys that are not columns of
            the table, or if a string is longer than its column holds.
        """
        if callable(self._make_row):
            row = self._make_row(**kw)
            if not hasattr(row, 'items'):
                raise exc.AuditRuntimeError(
                    'make_row() should return a dict, not %r' % (row,))
            row = {name: value(**kw) if callable(value) else value
                   for name, value in row.items()}
        else:
            row = {name: value(**kw) if is_callable else value
                   for name, value, is_callable in self._values}
        self._check_row(row)
        return row

    def listen(self, ctx: Any, step: Any, **kw: Any) -> None:
        """The ``on_version_apply`` hook: record ``step`` in the table.

        The row is built and checked first; then it is written on the
        step's connection inside the step's (sub)transaction, so it
        commits or rolls back with the step.  Where Alembic runs all
        steps in one transaction, rows wait for the end of the
        (sub)transaction they belong to and go in one INSERT; otherwise
        each step's INSERT follows the step.  Offline, an ``INSERT`` with
        literal values (and, for the details, SQL expressions evaluated
        when the script runs) follows the step.
        """
        run = facts.run_of(ctx)
        run.step_ended()
        row = self.make_row(ctx=ctx, step=step, **kw)
        if ctx.as_sql:
            self._offline.write(ctx, row)
        else:
            state = self._writer.ready(ctx)
            watch = self.schema_watch
            last = watch is not None and run.last_step_done(
                ctx, step, kw.get('heads', ()))
            if dialects.steps_share_a_transaction(ctx):
                state.rows.append(row)
            else:
                if watch is not None and last:
                    # The run's last row, committed with its step.
                    run.schema_recorded = watch.stamp_rows(
                        ctx.connection, [row])
                self._write(ctx.connection, [row], locked=(
                    self._chain is not None and
                    self._chain.locked_by_version_table(ctx)), run=run)
        if log.isEnabledFor(logging.DEBUG):
            log.debug('recorded %s step %r -> %r in %s',
                      CommonColumnValues.operation_direction(step=step),
                      step.source_revision_ids,
                      step.destination_revision_ids, self.table.name)

    def run_migrations(self, context: Any, **kw: Any) -> None:
        """Run the migrations of ``env.py``: call it in place of
        ``with context.begin_transaction(): context.run_migrations(**kw)``.

        Online, it makes sure the history table is ready (adding missing
        columns, or failing with :class:`.exc.TableSetupError`) before any
        step runs, and times the run's first step from here.  When the
        migrations raise (``KeyboardInterrupt`` included), it records a
        ``'failed'`` row, if the Auditor records failures, in a
        transaction of its own after the rollback (on a fresh connection
        where the server ended the session), waiting for locks at most
        :data:`.failure.RECORD_TIMEOUT` seconds, then re-raises the very
        same exception; if that row cannot be written, or Ctrl-C comes
        meanwhile, it logs a warning instead.  Offline it only runs the
        migrations.
        """
        running.run_migrations(
            context, kw, table=self.table, writer=self._writer,
            schema_watch=self.schema_watch,
            record_failures=self.record_failures, make_row=self.make_row,
            row_values=self._make_row)
