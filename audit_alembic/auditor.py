"""The :class:`Auditor`: a history table and the hook that fills it."""
import functools
import hashlib
import logging
import time
import warnings
import weakref

from alembic.util import CommandError as AlembicCommandError
from sqlalchemy import BigInteger
from sqlalchemy import CheckConstraint
from sqlalchemy import Column
from sqlalchemy import DateTime
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import MetaData
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import TypeDecorator
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import inspect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.schema import CreateIndex
from sqlalchemy.schema import CreateTable

from . import chain
from . import compat
from . import exc
from . import failure
from . import record
from . import values
from .record import DetailColumnValues
from .values import CommonColumnValues

log = logging.getLogger(__name__)


class ChangeTime(TypeDecorator):
    """``DateTime``, keeping microseconds on MySQL/MariaDB too (plain
    ``DATETIME`` would round them away); their dialect is loaded only
    where it is in use."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name in ('mysql', 'mariadb'):
            from sqlalchemy.dialects.mysql import DATETIME
            return dialect.type_descriptor(DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())


CHANGE_TIME_TYPE = ChangeTime()
ID_TYPE = BigInteger().with_variant(Integer, 'sqlite')
REVISIONS_TYPE = String(255)


def detail_columns():
    """New ``(Column, value)`` pairs of the detail columns, as
    ``Auditor.create(details=True)`` adds them; all nullable, so that
    they can be added to an existing table."""
    message = Column(values.MESSAGE_COLUMN, String(record.MESSAGE_LENGTH))
    error = Column(values.ERROR_COLUMN, String(record.ERROR_LENGTH))
    return [
        (Column(values.RUN_ID_COLUMN, String(36)),
         DetailColumnValues.run_id),
        (Column(values.STATUS_COLUMN, String(16)),
         DetailColumnValues.status),
        (Column(values.DB_USER_COLUMN, String(255)),
         DetailColumnValues.db_user),
        (Column(values.OS_USER_COLUMN, String(255)),
         DetailColumnValues.os_user),
        (Column(values.HOST_COLUMN, String(255)), DetailColumnValues.host),
        (Column(values.DURATION_COLUMN, Integer),
         DetailColumnValues.duration_ms),
        (Column(values.CHECKSUM_COLUMN, String(64)),
         DetailColumnValues.script_checksum),
        (message, DetailColumnValues.message),
        (error, DetailColumnValues.error),
        # Filled as the row is written (online): see Auditor(chain=...).
        (Column(values.ROW_HASH_COLUMN, String(64)), None),
    ]


def index_name(table_name, schema, column_name):
    """The name of the index on ``column_name`` that ``details=True``
    adds: ``ix_aa_`` and a hash of the table's name, so that it collides
    neither with a user's index nor with another history table's."""
    full_name = '%s.%s' % (schema, table_name) if schema else table_name
    digest = hashlib.sha256(full_name.encode('utf-8')).hexdigest()[:10]
    return 'ix_aa_%s_%s' % (digest, column_name)


class TableSetupError(exc.AuditSetupError, AlembicCommandError):
    """The history table lacks columns and they cannot be added.

    Also an Alembic ``CommandError``, so that the ``alembic`` command
    shows its one-line message rather than a traceback."""


def _warn_null_user_version(stacklevel=3):
    warnings.warn('null user version', exc.UserVersionWarning,
                  stacklevel=stacklevel)


def _warning_when_none(user_version):
    """Wrap a user version callable so that a ``None`` result warns."""
    @functools.wraps(user_version)
    def checked_user_version(**kw):
        value = user_version(**kw)
        if value is None:
            _warn_null_user_version()
        return value
    return checked_user_version


#: How many times the history table's creation is tried on a server whose
#: DDL commits by itself, where concurrent deploys race to create it.
TABLE_CREATE_ATTEMPTS = 5


def _ddl_commits_by_itself(ctx):
    """Whether DDL on ``ctx``'s connection would commit its transaction:
    no transactional DDL, and not SQLite (whose DDL joins an open
    transaction, and where a second connection would wait for the
    first's lock)."""
    return (not ctx.impl.transactional_ddl and
            ctx.dialect.name != 'sqlite')


def _steps_share_a_transaction(ctx):
    """Whether Alembic runs all steps of ``ctx`` in one transaction, as it
    does with transactional DDL unless ``transaction_per_migration``."""
    return (ctx.impl.transactional_ddl and
            not ctx.opts.get('transaction_per_migration', False))


class _ConnectionState:
    """What an Auditor knows of one connection: the migration contexts
    (one per Alembic command run) that know the table exists, and the
    rows held for the innermost (sub)transaction's end."""

    def __init__(self):
        self.contexts = weakref.WeakSet()
        self.rows = []


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
        :class:`~.record.FailedAttempt` as the step, and
        :meth:`.DetailColumnValues.status` gives ``'failed'``).
    :param complete_table: whether an existing table lacking some of
        ``table``'s columns or indexes gets them added.
    :param chain: the names of the columns whose values each row's hash
        covers (in the order of :data:`.values.CHAINED`), to chain the
        rows online through column ``row_hash``; None for no chain.
    :raise .exc.AuditConstructError: if ``make_row`` is neither.

    Pass :attr:`listen` to ``context.configure(on_version_apply=...)``
    in ``env.py``, and call :meth:`run_migrations` there.
    """

    def __init__(self, table, make_row, record_failures=False,
                 complete_table=False, chain=None):
        if not (callable(make_row) or hasattr(make_row, 'items')):
            raise exc.AuditConstructError(
                'make_row must be a callable or a dict, not %r' % (make_row,))
        self.table = table
        self._make_row = make_row
        # What make_row and _check_row need, worked out once.
        if not callable(make_row):
            self._values = [(name, value, callable(value))
                            for name, value in make_row.items()]
        self._column_names = frozenset(table.c.keys())
        self.chain = chain
        if chain is not None:
            # Text columns get text, so that what is hashed is what is
            # stored, whatever the value's type.
            self._text_columns = [name for name in chain
                                  if isinstance(table.c[name].type, String)]
            self._lock_key = _lock_key(table)
            self._tail_queries = {}  # dialect name -> chain.tail_query
            self._sqlite_lock = _sqlite_lock_statement(table)
        self._lengths = {column.key: column.type.length
                         for column in table.c
                         if getattr(column.type, 'length', None)}
        self.record_failures = record_failures
        self.complete_table = complete_table
        # Built once: SQLAlchemy then reuses its compiled form.
        self._insert = table.insert()
        # What is known of each connection used online (_ConnectionState).
        self._connections = weakref.WeakKeyDictionary()
        # Offline migration contexts that have created the table.
        self._contexts_with_table = weakref.WeakSet()
        # Migration contexts whose table was found complete, or made so.
        self._completed = weakref.WeakSet()

    @classmethod
    def create(cls,
               user_version,
               user_version_nullable=False,
               table_name=values.DEFAULT_TABLE_NAME,
               metadata=None,
               extra_columns=(),
               user_version_column_name=values.USER_VERSION_COLUMN,
               user_version_type=String(255),
               direction_column_name=values.DIRECTION_COLUMN,
               operation_column_name=values.OPERATION_COLUMN,
               alembic_version_separator=values.DEFAULT_SEPARATOR,
               alembic_version_column_name=values.NEW_VERSION_COLUMN,
               prev_alembic_version_column_name=values.OLD_VERSION_COLUMN,
               change_time_column_name=values.CHANGE_TIME_COLUMN,
               details=False):
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
            add what is missing to an existing table.
        :raise .exc.AuditCreateError: if a column name is used twice.

        The remaining parameters name the table, its columns and the type
        of the user version column.
        """
        if not user_version_nullable:
            if user_version is None:
                _warn_null_user_version()
            elif callable(user_version):
                user_version = _warning_when_none(user_version)

        new_version = Column(alembic_version_column_name, REVISIONS_TYPE)
        old_version = Column(prev_alembic_version_column_name, REVISIONS_TYPE)
        change_time = Column(change_time_column_name, CHANGE_TIME_TYPE)
        columns = [
            Column(values.ID_COLUMN, ID_TYPE, primary_key=True),
            new_version,
            old_version,
            Column(operation_column_name, String(32), nullable=False),
            Column(direction_column_name, String(32), nullable=False),
            Column(user_version_column_name, user_version_type),
            change_time,
        ]
        column_values = {
            alembic_version_column_name: functools.partial(
                CommonColumnValues.new_alembic_version,
                separator=alembic_version_separator),
            prev_alembic_version_column_name: functools.partial(
                CommonColumnValues.old_alembic_version,
                separator=alembic_version_separator),
            operation_column_name: CommonColumnValues.operation_type,
            direction_column_name: CommonColumnValues.operation_direction,
            user_version_column_name: user_version,
            change_time_column_name: CommonColumnValues.change_time,
        }
        pairs = list(extra_columns)
        if details:
            column_values[change_time_column_name] = \
                DetailColumnValues.change_time
            pairs = detail_columns() + pairs
        for column, value in pairs:
            columns.append(column)
            column_values[column.name] = value
        names = [column.name for column in columns]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise exc.AuditCreateError(
                'column name used twice: %s' % ', '.join(twice))

        table = Table(
            table_name, MetaData() if metadata is None else metadata,
            *columns,
            CheckConstraint(
                func.coalesce(new_version, old_version).isnot(None),
                name='alembic_versions_nonnull'))
        chain = None
        if details:
            schema = table.schema
            for column in (change_time, table.c[values.RUN_ID_COLUMN]):
                Index(index_name(table_name, schema, column.name), column)
            renamed = {
                values.NEW_VERSION_COLUMN: alembic_version_column_name,
                values.OLD_VERSION_COLUMN: prev_alembic_version_column_name,
                values.OPERATION_COLUMN: operation_column_name,
                values.DIRECTION_COLUMN: direction_column_name,
                values.USER_VERSION_COLUMN: user_version_column_name,
                values.CHANGE_TIME_COLUMN: change_time_column_name,
            }
            chain = [renamed.get(role, role) for role in values.CHAINED]
        return cls(table, column_values, record_failures=details,
                   complete_table=details, chain=chain)

    def make_row(self, **kw):
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

    def _check_row(self, row):
        if not self._column_names.issuperset(row):
            unknown = sorted(str(key) for key in row
                             if key not in self._column_names)
            raise exc.AuditRuntimeError(
                'make_row gave values for %s, not column%s of table %s' % (
                    ', '.join(unknown), 's' if len(unknown) > 1 else '',
                    self.table.name))
        for key, length in self._lengths.items():
            value = row.get(key)
            if isinstance(value, str) and len(value) > length:
                raise exc.AuditRuntimeError(
                    'value for column %s of table %s is %d characters '
                    'long; the column holds at most %d' % (
                        key, self.table.name, len(value), length))

    def listen(self, ctx, step, **kw):
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
        record.run_of(ctx).step_ended()
        row = self.make_row(ctx=ctx, step=step, **kw)
        if ctx.as_sql:
            self._insert_offline(ctx, row)
        else:
            state = self._ensure_table(ctx)
            if _steps_share_a_transaction(ctx):
                state.rows.append(row)
            else:
                self._write(ctx.connection, [row],
                            locked=self._version_table_locks_chain(ctx))
        if log.isEnabledFor(logging.DEBUG):
            log.debug('recorded %s step %r -> %r in %s',
                      CommonColumnValues.operation_direction(step=step),
                      step.source_revision_ids,
                      step.destination_revision_ids, self.table.name)

    def run_migrations(self, context, **kw):
        """Run the migrations of ``env.py``: call it in place of
        ``with context.begin_transaction(): context.run_migrations(**kw)``.

        Online, it makes sure the history table is ready (adding missing
        columns, or failing with :class:`TableSetupError`) before any
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
        if context.is_offline_mode():
            with context.begin_transaction():
                context.run_migrations(**kw)
            return
        ctx = context.get_context()
        record.run_of(ctx).start()
        callers_transaction = ctx.connection.in_transaction()
        if self.complete_table:
            if _ddl_commits_by_itself(ctx):
                self._aside(ctx.connection.engine, self._complete_table, ctx)
            else:
                self._complete_table(ctx.connection, ctx)
        try:
            with context.begin_transaction():
                context.run_migrations(**kw)
        except BaseException as error:
            if self.record_failures and not isinstance(error, GeneratorExit):
                self._record_failure(ctx, error, kw, callers_transaction)
            raise
        finally:
            if not callers_transaction:
                self._release_chain(ctx.connection)

    def _record_failure(self, ctx, error, run_args, callers_transaction):
        """Record ``error`` as a failed attempt (see :mod:`.failure`).

        Never raises: a problem, or Ctrl-C meanwhile, is logged as one
        warning, and the caller re-raises ``error`` itself."""
        record.run_of(ctx).step_ended()
        try:
            with failure.recording(ctx, callers_transaction) as connection:
                revision = self._write_failure(ctx, error, run_args,
                                               connection)
        except KeyboardInterrupt:
            log.warning('interrupted: the failed attempt was not recorded '
                        'in %s', self.table.name)
        except Exception as problem:
            log.warning('could not record the failed attempt in %s: %s',
                        self.table.name, failure.one_line(
                            problem, ctx.connection.engine.url))
        else:
            log.info('recorded a failed attempt at %s in %s', revision,
                     self.table.name)

    def _write_failure(self, ctx, error, run_args, connection):
        """Write the row of the failed attempt on ``connection`` (which is
        ``ctx.connection``); return the revision it names."""
        heads = ctx.get_current_heads()
        scripts = getattr(ctx.environment_context, 'script', None)
        revision, is_upgrade = record.failed_script(error, scripts)
        if revision is None:
            revision, is_upgrade = _requested_target(ctx, scripts), True
        step = record.FailedAttempt(
            getattr(scripts, 'revision_map', None), revision,
            is_upgrade, heads)
        run = record.run_of(ctx)
        run.failure = error
        try:
            row = self.make_row(ctx=ctx, step=step, heads=heads,
                                run_args=run_args)
        finally:
            run.failure = None
        self._ensure_table(ctx)
        # In the caller's transaction, rows held for the steps before
        # come first.
        self._write_held_rows(connection)
        self._write(connection, [row])
        return revision

    def _insert_offline(self, ctx, row):
        if ctx not in self._contexts_with_table:
            ctx.impl.execute(CreateTable(self.table, if_not_exists=True))
            if not _lacks_create_index_if_not_exists(ctx.dialect):
                for index in sorted(self.table.indexes,
                                    key=lambda i: i.name):
                    ctx.impl.execute(CreateIndex(index, if_not_exists=True))
            self._contexts_with_table.add(ctx)
        with compat.standard_conforming_strings(ctx.dialect):
            if any(isinstance(value, ClauseElement)
                   for value in row.values()):
                ctx.impl.execute(self.table.insert().values(row))
            else:
                ctx.impl.bulk_insert(self.table, [row])  # as literals

    def _ensure_table(self, ctx):
        """Create the table where it is missing (or complete it), once
        per context; return the connection's :class:`_ConnectionState`."""
        connection = ctx.connection
        state = self._connections.get(connection)
        if state is None:
            state = self._connections[connection] = _ConnectionState()
            # Every change of (sub)transaction writes or drops the held
            # rows, so that those held belong to the innermost one; a
            # rollback may undo the table's creation: forget it.
            for name in ('savepoint', 'release_savepoint', 'commit',
                         'prepare_twophase'):
                event.listen(connection, name, self._write_held_rows)
            for name in ('rollback_savepoint', 'rollback'):
                event.listen(connection, name, self._forget)
            if self.chain is not None:
                # A new transaction: the last one's rows are committed.
                event.listen(connection, 'begin', self._release_chain)
        if ctx not in state.contexts:
            if _ddl_commits_by_itself(ctx):
                self._aside(connection.engine, self._create_table, ctx)
            else:
                self._create_table(connection, ctx)
            state.contexts.add(ctx)
        return state

    def _create_table(self, connection, ctx):
        if self.complete_table and ctx not in self._completed:
            self._complete_table(connection, ctx)
        self.table.create(connection, checkfirst=True)

    def _complete_table(self, connection, ctx):
        """Add to an existing table the columns and indexes it lacks."""
        columns, indexes = self._missing(connection)
        if columns or indexes:
            self._complete(connection, columns, indexes)
        self._completed.add(ctx)

    def _missing(self, connection):
        """The columns and indexes of :attr:`table` that the table in the
        database lacks (none if there is no such table)."""
        inspector = inspect(connection)
        table = self.table
        if not inspector.has_table(table.name, schema=table.schema):
            return [], []
        have = {c['name'] for c in inspector.get_columns(
            table.name, schema=table.schema)}
        columns = [c for c in table.columns if c.name not in have]
        have = {i['name'] for i in inspector.get_indexes(
            table.name, schema=table.schema)}
        indexes = [i for i in table.indexes if i.name not in have]
        return columns, indexes

    def _complete(self, connection, columns, indexes):
        """Add ``columns`` (as nullable) and ``indexes`` to the table.

        Another process may be adding them at the same moment: what fails
        is checked again, and only what is still missing is an error.
        """
        from alembic.operations import Operations
        from alembic.runtime.migration import MigrationContext
        table = self.table
        operations = Operations(MigrationContext.configure(connection))
        changes = [
            ('column', column.name, functools.partial(
                operations.add_column, table.name,
                Column(column.name, column.type), schema=table.schema))
            for column in columns] + [
            ('index', index.name, functools.partial(
                operations.create_index, index.name, table.name,
                [column.name for column in index.columns],
                schema=table.schema))
            for index in indexes]
        # On PostgreSQL a failed statement spoils the transaction: try
        # each change in a savepoint.
        savepoints = connection.dialect.name == 'postgresql' and \
            connection.in_transaction()
        lacking = []  # indexes that could not be created
        for kind, name, change in changes:
            try:
                if savepoints:
                    with connection.begin_nested():
                        change()
                else:
                    change()
            except DBAPIError as error:
                columns_now, indexes_now = self._missing(connection)
                if kind == 'column' and name in [
                        c.name for c in columns_now]:
                    raise TableSetupError(
                        'table %s lacks column(s) %s and they could not be '
                        'added (%s); have its owner run: %s' % (
                            table.name,
                            ', '.join(c.name for c in columns_now),
                            _first_line(error.orig), ' '.join(
                                setup_statements(table, columns_now,
                                                 indexes_now,
                                                 connection.dialect)))) \
                        from None
                if kind == 'index' and name in [
                        i.name for i in indexes_now]:
                    lacking.append((name, error))
            else:
                log.info('added %s %s to table %s', kind, name, table.name)
        if lacking:
            # Indexes only make reading quicker: never a reason to stop.
            indexes = [i for i in table.indexes
                       if i.name in dict(lacking)]
            log.warning(
                'table %s lacks index(es) %s and they could not be created '
                '(%s); the history is recorded without them; have its '
                'owner run: %s', table.name,
                ', '.join(i.name for i in indexes),
                _first_line(lacking[0][1].orig), ' '.join(setup_statements(
                    table, [], indexes, connection.dialect)))

    def _write_held_rows(self, connection, *args):
        # Called by SQLAlchemy just before the (sub)transaction ends or a
        # savepoint begins, on the connection and in the transaction.
        state = self._connections.get(connection)
        if state is not None and state.rows:
            rows, state.rows = state.rows, []
            if not failure.usable(connection):
                # The session is gone, and its transaction with it.
                log.debug('dropped %d held row(s): connection unusable',
                          len(rows))
                return
            self._write(connection, rows)

    def _write(self, connection, rows, locked=False):
        """INSERT ``rows`` in order, chained after the table's last
        chained row if the Auditor keeps a chain (``locked``: the
        transaction already keeps other writers of the table waiting)."""
        if self.chain is not None:
            self._link(connection, rows, locked)
        # executemany takes its columns from the first row: write each
        # run of rows with the same keys apart, in order.
        if len(rows) == 1:  # the usual case: no executemany
            connection.execute(self._insert, rows[0])
            return
        start = 0
        for end in range(1, len(rows) + 1):
            if end == len(rows) or rows[end].keys() != rows[start].keys():
                connection.execute(self._insert, rows[start:end])
                start = end

    def _link(self, connection, rows, locked=False):
        """Give each row its ``row_hash``, under a lock that makes
        concurrent writers of the table take turns until they commit."""
        if not locked:
            self._lock_chain(connection)
        key = chain.chain_key()
        previous = chain.link_after(self._read_tail(connection), key)
        for row in rows:
            for name in self._text_columns:
                value = row.get(name)
                if value is not None and value.__class__ is not str:
                    row[name] = str(value)
            previous = row[values.ROW_HASH_COLUMN] = chain.chain_hash(
                previous, [row.get(name) for name in self.chain], key)

    def _read_tail(self, connection):
        """The last chained row and the unchained rows after it (see
        :func:`.chain.tail_query`)."""
        dialect = connection.dialect
        query = self._tail_queries.get(dialect.name)
        if query is None:
            query = self._tail_queries[dialect.name] = chain.tail_query(
                self.table, self.chain, dialect)
        if dialect.name in ('mysql', 'mariadb'):
            # The transaction's snapshot (REPEATABLE READ) may be older
            # than the last writer's commit: read on another connection.
            # (A locking read would take gap locks that deadlock.)
            with connection.engine.connect() as other:
                return other.execute(query).all()
        if dialect.name != 'sqlite':
            return connection.execute(query).all()
        try:
            return connection.execute(query).all()
        except DBAPIError as error:
            # Text SQLite cannot decode: the chain starts anew here, and
            # verify names the row whose hash does not follow.
            log.warning('could not read the last rows of %s (%s): this row '
                        'starts a new chain', self.table.name,
                        _first_line(error.orig))
            return []

    def _version_table_locks_chain(self, ctx):
        """Whether the step's own write of the version table, which comes
        before the hook, already holds the lock the chain needs: on
        SQLite, whose writers take turns per database file, when the two
        tables share one."""
        return (self.chain is not None and ctx.dialect.name == 'sqlite' and
                (self.table.schema or 'main') ==
                (ctx.version_table_schema or 'main'))

    def _lock_chain(self, connection):
        dialect = connection.dialect.name
        if dialect == 'postgresql':
            # Held until the transaction ends.
            connection.exec_driver_sql(
                'SELECT pg_advisory_xact_lock(%d)' % self._lock_key)
        elif dialect in ('mysql', 'mariadb'):
            # Held by the session, so released once the transaction is
            # over: when the next one begins or the connection goes back
            # to its pool (or closes).
            if connection.info.get(CHAIN_LOCK_INFO):
                return
            name = 'audit_alembic_%x' % self._lock_key
            got = connection.exec_driver_sql(
                'SELECT GET_LOCK(%%s, %d)' % CHAIN_LOCK_TIMEOUT,
                (name,)).scalar()
            if got != 1:
                raise exc.AuditRuntimeError(
                    'could not lock the chain of table %s within %d seconds'
                    % (self.table.name, CHAIN_LOCK_TIMEOUT))
            connection.info[CHAIN_LOCK_INFO] = name
            pool = connection.engine.pool
            if not event.contains(pool, 'reset', _release_at_reset):
                event.listen(pool, 'reset', _release_at_reset)
        elif dialect == 'sqlite':
            connection.execute(self._sqlite_lock)

    def _release_chain(self, connection, *args):
        if not failure.usable(connection):
            # Its session ends (or has ended), and frees the lock.
            log.debug('chain lock left to the end of the session')
            return
        if CHAIN_LOCK_INFO in connection.info:
            _release_at_reset(connection.connection.dbapi_connection,
                              connection.connection)

    def _forget(self, connection, *args):
        state = self._connections.get(connection)
        if state is not None:
            state.rows = []
            state.contexts.clear()
        self._completed.clear()
        if self.chain is not None:
            self._release_chain(connection)

    def _aside(self, engine, create, ctx):
        # DDL would commit the step's transaction (MySQL, MariaDB, Oracle):
        # create the table on another connection, so that the step's
        # alembic_version update still commits only with its row.
        # Concurrent deploys may race to create it: retry a few times.
        for attempt in range(TABLE_CREATE_ATTEMPTS):
            try:
                with engine.connect() as other:
                    create(other, ctx)
                    other.commit()
                return
            except DBAPIError:
                if attempt == TABLE_CREATE_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))


#: Seconds a writer waits for the chain's lock on MySQL and MariaDB.
CHAIN_LOCK_TIMEOUT = 60
#: Where a connection's ``info`` keeps the name of the chain lock it holds.
CHAIN_LOCK_INFO = 'audit_alembic_chain_lock'


def _release_at_reset(dbapi_connection, connection_record, reset_state=None):
    """Release the MySQL/MariaDB chain lock the connection holds, if any:
    a pool ``reset`` hook, called too as a transaction begins."""
    name = connection_record.info.pop(CHAIN_LOCK_INFO, None)
    if name is None:
        return
    # On the driver's connection: SQLAlchemy may be beginning or ending
    # a transaction.
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute('SELECT RELEASE_LOCK(%s)', (name,))
            cursor.fetchall()
        finally:
            cursor.close()
    except Exception as error:  # the session ends and frees it anyway
        log.debug('could not release lock %s: %s', name, error)


def _lock_key(table):
    """A 63-bit number naming ``table``'s chain lock (its full name's
    hash): the same for every writer of the table."""
    digest = hashlib.sha256(
        ('audit_alembic:%s' % table.fullname).encode('utf-8')).digest()
    return int.from_bytes(digest[:8], 'big') >> 1


def _sqlite_lock_statement(table):
    """A write to ``table`` that changes nothing: on SQLite it takes the
    database's write lock, held until the transaction ends."""
    from sqlalchemy import false
    from sqlalchemy import update
    key = list(table.primary_key)[0]
    return update(table).where(false()).values({key: key})


def _lacks_create_index_if_not_exists(dialect):
    # MySQL, unlike MariaDB, has no CREATE INDEX IF NOT EXISTS.
    return dialect.name == 'mysql' and not getattr(dialect, 'is_mariadb',
                                                   False)


def alter_statements(table, columns, dialect):
    """``ALTER TABLE ... ADD COLUMN`` statements adding ``columns`` (as
    nullable) to ``table`` on ``dialect``, each ending in ``;``."""
    preparer = dialect.identifier_preparer
    return ['ALTER TABLE %s ADD COLUMN %s %s;' % (
        preparer.format_table(table), preparer.quote(column.name),
        column.type.compile(dialect)) for column in columns]


def setup_statements(table, columns, indexes, dialect):
    """The statements that add ``columns`` (see :func:`alter_statements`)
    and ``indexes`` to ``table`` on ``dialect``, each ending in ``;``."""
    return alter_statements(table, columns, dialect) + [
        '%s;' % str(CreateIndex(index).compile(dialect=dialect)).strip()
        for index in sorted(indexes, key=lambda i: i.name)]


def _first_line(error):
    text = str(error).strip()
    return text.split('\n', 1)[0] if text else type(error).__name__


def _requested_target(ctx, scripts):
    """The revision the command was asked for, where the failed script
    cannot be told from the traceback."""
    try:
        argument = ctx.environment_context.get_revision_argument()
    except Exception:
        return None
    if scripts is not None:
        try:
            found = scripts.get_revisions(argument)
        except Exception:
            found = ()
        if len(found) == 1 and found[0] is not None:
            return found[0].revision
    if isinstance(argument, (tuple, list)):
        argument = values.DEFAULT_SEPARATOR.join(argument)
    return argument
