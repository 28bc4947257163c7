"""Every row as an event: each row an :class:`.Auditor` writes (a step's
``'ok'``, a ``'failed'`` attempt, ``'drift'`` and ``'snapshot'``) is also
logged on the logger ``audit_alembic.events`` (:data:`EVENTS`) at INFO,
once its transaction has committed, never for a row rolled back.

A record carries a one-line message, e.g. ``upgrade ae1027a6acf ->
27c6a30d7c24 ok (run 3706fdba, 8 ms) in alembic_version_history``, and:

``audit``
    the row's values by role (the names of :data:`.values.ROLES`, the
    default column names; a column of no role keeps its name), JSON-safe:
    text, numbers and None as they are, times as ISO 8601 UTC text ending
    in ``Z`` (the chain's canonical text of :func:`.chain.canonical_row`
    followed by ``Z``), anything else as its ``str()``.  The id, which
    the database gives, is not among them.
``audit_table``
    the name of the history table.
``audit_alembic.<role>``
    each value of ``audit`` that is not None again, as an attribute of its
    own: what OpenTelemetry's ``LoggingHandler`` turns into the log
    record's attributes.

When it is emitted (:class:`RowEvents`): rows are INSERTed inside the
step's (or the run's) transaction, so they are held until it ends.  A
commit that :meth:`.Auditor.run_migrations` is running through (Alembic's
transactions, a transaction per migration, the failed attempt's own
transaction, the drift check's) emits its rows after the COMMIT
succeeded: when the connection begins its next transaction, or when
``run_migrations`` returns or raises, whichever comes first.  A commit
made outside it (the caller's transaction, which commits after
``run_migrations`` returned, or an ``env.py`` that calls only
:meth:`.Auditor.listen`) emits them at SQLAlchemy's ``commit`` event,
just before the COMMIT is sent: should that COMMIT fail, they were
emitted all the same.  A rollback, of the transaction or of a savepoint
the rows were written in, drops them.

Nothing is built, nor listened to, while the logger is not enabled for
INFO.

:class:`JsonFormatter` writes the records as JSON lines; importing it
loads only the standard library.  OpenTelemetry needs nothing from here:
this module imports none of it.
"""
import datetime
import json
import logging
import threading
import weakref
from typing import TYPE_CHECKING
from typing import Any
from typing import Callable
from typing import Mapping
from typing import Optional

from . import values

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.engine import Engine
    from sqlalchemy.engine import ExceptionContext
    from sqlalchemy.engine import RootTransaction

#: The name of the logger the rows are emitted on.
EVENTS = 'audit_alembic.events'
#: What prefixes the flat attributes of a record, one per value.
ATTRIBUTE_PREFIX = 'audit_alembic.'

#: A row: column name -> value.
Row = dict[str, Any]

logger = logging.getLogger(EVENTS)


def audit_values(row: Mapping[str, Any],
                 roles: Mapping[str, str]) -> dict[str, Any]:
    """``row`` (column name -> value) by role, JSON-safe; ``roles`` maps
    a column name to its role where they differ."""
    return {roles.get(name, name): json_safe(value)
            for name, value in row.items()}


def json_safe(value: Any) -> Any:
    """``value`` as JSON holds it: text, numbers, booleans and None as
    they are, times as ISO 8601 UTC text ending in ``Z`` (naive times are
    UTC), anything else as its ``str()``."""
    if value is None or isinstance(value, (str, int, float)):
        return value
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(
                tzinfo=None)
        return value.isoformat(timespec='microseconds') + 'Z'
    if isinstance(value, bytes):
        return value.decode('utf-8', 'replace')
    return str(value)


def message(audit: Mapping[str, Any], table: str) -> str:
    """The one-line text of a row's event, e.g. ``upgrade A -> B ok (run
    3706fdba, 8 ms) in alembic_version_history``."""
    kind = audit.get(values.OPERATION_COLUMN)
    new = audit.get(values.NEW_VERSION_COLUMN) or values.BASE
    old = audit.get(values.OLD_VERSION_COLUMN) or values.BASE
    status = audit.get(values.STATUS_COLUMN)
    if kind == values.MIGRATION:
        verb = ('downgrade' if audit.get(values.DIRECTION_COLUMN) ==
                values.DOWN else 'upgrade')
        text = '%s %s -> %s' % (verb, old, new)
    elif kind == values.STAMP:
        text = 'stamp %s -> %s' % (old, new)
    else:  # 'drift', 'snapshot': no step, at the revisions of the time
        text = '%s at %s' % (kind or status, new)
    if status is not None and status != kind:
        text += ' %s' % (status,)
    notes = []
    run_id = audit.get(values.RUN_ID_COLUMN)
    if run_id:
        notes.append('run %s' % (str(run_id)[:8],))
    duration = audit.get(values.DURATION_COLUMN)
    if duration is not None:
        notes.append('%s ms' % (duration,))
    if notes:
        text += ' (%s)' % ', '.join(notes)
    return '%s in %s' % (text, table)


def document(audit: Mapping[str, Any], table: str,
             timestamp: Optional[str]) -> dict[str, Any]:
    """The JSON object of a row's event, as :class:`JsonFormatter` writes
    it and ``audit-alembic history --format jsonl`` prints it: the
    ``timestamp`` given, ``level``, ``logger``, ``message``, ``table``
    and ``audit``."""
    return {'timestamp': timestamp, 'level': 'INFO', 'logger': EVENTS,
            'message': message(audit, table), 'table': table,
            'audit': dict(audit)}


def emit(rows: list[Row], table: str, roles: Mapping[str, str]) -> None:
    """Log each of ``rows`` (written to ``table``, committed) as one
    record on :data:`EVENTS`."""
    if not logger.isEnabledFor(logging.INFO):
        return
    for row in rows:
        audit = audit_values(row, roles)
        extra: dict[str, Any] = {'audit': audit, 'audit_table': table}
        for role, value in audit.items():
            if value is not None:
                extra[ATTRIBUTE_PREFIX + role] = value
        logger.info(message(audit, table), extra=extra)


class _Pending:
    """The rows written on one connection in its transaction, not yet
    committed, and where each open savepoint began among them."""

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.marks: list[int] = []


#: Rows whose commit was under way: the connection, the transaction
#: committed and the rows.
_Committed = tuple['Connection', Optional['RootTransaction'], list[Row]]


class _Local(threading.local):
    def __init__(self) -> None:
        #: How many :meth:`.Auditor.run_migrations` calls this thread is in.
        self.runs = 0
        #: The rows of commits made in them, until the commit is over.
        self.committed: list[_Committed] = []


class RowEvents:
    """Follows the rows an Auditor writes to ``table`` through their
    transactions, and emits them once committed (see the module).

    :param roles: column name -> role, where they differ.
    :param before_end: called with the connection as a (sub)transaction
        ends or a savepoint begins, before the rows are counted: the
        Auditor writes the rows it holds for that moment.
    """

    def __init__(self, table: str, roles: Optional[Mapping[str, str]] = None,
                 before_end: Optional[Callable[['Connection'], None]] = None
                 ) -> None:
        self.table = table
        self.roles: Mapping[str, str] = dict(roles or {})
        self._before_end = before_end
        self._pending: 'weakref.WeakKeyDictionary[Connection, _Pending]' = \
            weakref.WeakKeyDictionary()
        self._engines: 'weakref.WeakSet[Engine]' = weakref.WeakSet()
        self._local = _Local()

    def name_roles(self, names: Mapping[str, str]) -> None:
        """Take the roles from ``names`` (role -> column name)."""
        self.roles = {column: role for role, column in names.items()
                      if column != role}

    def follow(self, connection: 'Connection') -> None:
        """Follow the transactions of ``connection``, where rows will be
        written: called outside SQLAlchemy's events (a listener may not
        be added while they run)."""
        if (logger.isEnabledFor(logging.INFO) and
                connection not in self._pending):
            self._pending[connection] = _Pending()
            self._listen(connection)

    def written(self, connection: 'Connection', rows: list[Row]) -> None:
        """``rows`` were just INSERTed on ``connection``, in its current
        (sub)transaction."""
        if not logger.isEnabledFor(logging.INFO):
            return
        pending = self._pending.get(connection)
        # None: the events were turned on after the connection was last
        # met outside SQLAlchemy's events (see follow); its rows are not
        # emitted, rather than a listener added while they run.
        if pending is not None:
            pending.rows.extend(rows)

    def run_started(self) -> None:
        """:meth:`.Auditor.run_migrations` starts: the commits made until
        it ends emit their rows after the COMMIT."""
        self._local.runs += 1

    def run_ended(self) -> None:
        """It ends: emit the rows its commits committed."""
        self._local.runs -= 1
        self.flush()

    def flush(self) -> None:
        """Emit the rows of this thread's commits that are over (those
        whose connection is no longer in the transaction committed: its
        COMMIT succeeded; one that failed dropped them)."""
        local = self._local
        if not local.committed:
            return
        done: list[Row] = []
        going_on = []
        for entry in local.committed:
            connection, transaction, rows = entry
            if connection.get_transaction() is transaction:
                going_on.append(entry)
            else:
                done.extend(rows)
        local.committed = going_on
        emit(done, self.table, self.roles)

    def _listen(self, connection: 'Connection') -> None:
        from sqlalchemy import event
        for name, listener in (
                ('begin', self._begun),
                ('savepoint', self._savepoint),
                ('release_savepoint', self._released),
                ('rollback_savepoint', self._rolled_back_to),
                ('commit', self._committing),
                ('commit_twophase', self._committing),
                ('rollback', self._rolled_back),
                ('rollback_twophase', self._rolled_back)):
            event.listen(connection, name, listener)
        engine = connection.engine
        if engine not in self._engines:
            # A COMMIT that fails drops the rows it was committing.
            self._engines.add(engine)
            event.listen(engine, 'handle_error', self._failed)

    def _begun(self, connection: 'Connection') -> None:
        # The connection's last transaction is over.
        pending = self._pending.get(connection)
        if pending is not None:
            pending.rows, pending.marks = [], []
        self.flush()

    def _savepoint(self, connection: 'Connection', name: str) -> None:
        if self._before_end is not None:
            self._before_end(connection)
        pending = self._pending.get(connection)
        if pending is not None:
            pending.marks.append(len(pending.rows))

    def _released(self, connection: 'Connection', name: str,
                  context: Any) -> None:
        if self._before_end is not None:
            self._before_end(connection)
        pending = self._pending.get(connection)
        if pending is not None and pending.marks:
            pending.marks.pop()

    def _rolled_back_to(self, connection: 'Connection', name: str,
                        context: Any) -> None:
        pending = self._pending.get(connection)
        if pending is not None:
            # No mark: the savepoint began before the first row was
            # followed on the connection, so all of them are after it.
            mark = pending.marks.pop() if pending.marks else 0
            del pending.rows[mark:]

    def _committing(self, connection: 'Connection', *args: Any) -> None:
        # SQLAlchemy calls it just before the COMMIT.
        if self._before_end is not None:
            self._before_end(connection)
        pending = self._pending.get(connection)
        if pending is None or not pending.rows:
            return
        rows, pending.rows, pending.marks = pending.rows, [], []
        if self._local.runs:
            self._local.committed.append(
                (connection, connection.get_transaction(), rows))
        else:
            emit(rows, self.table, self.roles)

    def _rolled_back(self, connection: 'Connection', *args: Any) -> None:
        pending = self._pending.get(connection)
        if pending is not None:
            pending.rows, pending.marks = [], []
        self._drop_committing(connection)

    def _failed(self, context: 'ExceptionContext') -> None:
        # An error while the connection's transaction was committing:
        # the COMMIT (or what came before it) failed.
        if context.connection is not None:
            self._drop_committing(context.connection)

    def _drop_committing(self, connection: 'Connection') -> None:
        local = self._local
        if local.committed:
            transaction = connection.get_transaction()
            local.committed = [
                entry for entry in local.committed
                if entry[0] is not connection or entry[1] is not transaction]


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON: ``timestamp`` (UTC, ISO 8601
    ending in ``Z``), ``level``, ``logger`` and ``message``, then, for the
    events of :data:`EVENTS`, ``table`` and the row's values (``audit``);
    ``exception`` where the record has one.

    Usable from ``logging.config.fileConfig`` (``class =
    audit_alembic.events.JsonFormatter`` in a ``[formatter_...]``
    section, as in ``alembic.ini``).
    """

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            'timestamp': datetime.datetime.fromtimestamp(
                record.created, datetime.timezone.utc).replace(
                    tzinfo=None).isoformat(timespec='microseconds') + 'Z',
            'level': record.levelname,
            'logger': record.name,
            'message': record.getMessage(),
        }
        table = getattr(record, 'audit_table', None)
        if table is not None:
            line['table'] = table
        audit = getattr(record, 'audit', None)
        if audit is not None:
            line['audit'] = audit
        if record.exc_info:
            line['exception'] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)
