"""Bounding how long a connection waits: whether it still runs statements,
and how long its statements may wait for locks, by each dialect's own
means (:data:`BOUNDS`).  SQLAlchemy is imported inside the functions.

:mod:`.failure` records a failed attempt under these bounds, so that
the auditor never keeps waiting a deploy that bare Alembic would end.
"""
import contextlib
import functools
import logging
import math
import time
from typing import TYPE_CHECKING
from typing import Any
from typing import Callable
from typing import Iterable
from typing import Iterator
from typing import Mapping
from typing import Sequence
from typing import cast

from . import dialects

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.pool import ConnectionPoolEntry

# Its messages are those of recording a failure (see .failure).
log = logging.getLogger('audit_alembic.failure')

#: Seconds SQLite waits in one go for the write lock of a recording:
#: SQLite's own wait cannot be interrupted, a sleep between two can.
SQLITE_SLICE = 0.05


def usable(connection: 'Connection') -> bool:
    """Whether ``connection`` runs statements without reconnecting: it is
    neither closed nor invalidated (the server ended its session, or an
    interrupt cut a statement short)."""
    return not (connection.closed or connection.invalidated)


@contextlib.contextmanager
def bounded(connection: 'Connection', seconds: float) -> Iterator[None]:
    """Make the statements on ``connection`` wait for locks at most about
    ``seconds``, and take as long at most, by the dialect's own means
    (see :data:`BOUNDS`); restore its settings after."""
    kind = dialects.server(connection.dialect).wait_bound
    bound = None if kind is None else BOUNDS.get(kind)
    if bound is None:
        yield
        return
    restore = bound(connection, seconds)
    try:
        yield
    finally:
        quietly(restore)


def quietly(call: Callable[[], object]) -> None:
    """Call ``call``; log what it raises (at DEBUG), never raise it."""
    try:
        call()
    except Exception as error:
        log.debug('%s failed while recording a failure: %s',
                  getattr(call, '__name__', call), error)


def _if_usable(connection: 'Connection',
               call: Callable[[], object]) -> Callable[[], None]:
    """``call``, to be run only while ``connection`` is usable: an
    invalidated one would reconnect, and may wait."""
    def guarded() -> None:
        if usable(connection):
            call()
    return guarded


def _postgresql(connection: 'Connection',
                seconds: float) -> Callable[[], None]:
    from sqlalchemy import text
    # SET LOCAL: for the transaction only.
    names = ('lock_timeout', 'statement_timeout')
    old = connection.execute(text(
        "SELECT current_setting('lock_timeout'), "
        "current_setting('statement_timeout')")).one()

    def set_to(settings: Sequence[str]) -> None:
        connection.execute(text(
            'SELECT set_config(:n0, :v0, true), set_config(:n1, :v1, true)'),
            {'n0': names[0], 'v0': settings[0],
             'n1': names[1], 'v1': settings[1]})
    set_to(['%dms' % math.ceil(seconds * 1000)] * 2)
    return _if_usable(connection, lambda: set_to(old))


#: Where a pooled MySQL connection keeps the statement setting its
#: session back (see :func:`_restore_at_checkin`).
_RESTORE_INFO = 'audit_alembic_restore'


def _mysql(connection: 'Connection',
           seconds: float) -> Callable[[], None]:
    from sqlalchemy import event
    # Session variables: metadata locks (LOCK TABLES, DDL), InnoDB row
    # locks (whole seconds), and the statement itself (MariaDB: seconds;
    # MySQL 5.7.8+: milliseconds, SELECT only).
    dialect = connection.dialect
    whole = max(1, math.ceil(seconds))
    settings: dict[str, float] = {'lock_wait_timeout': whole,
                                  'innodb_lock_wait_timeout': whole}
    if dialects.is_mariadb(dialect):
        settings['max_statement_time'] = seconds
    elif (dialect.server_version_info or ()) >= (5, 7, 8):
        settings['max_execution_time'] = math.ceil(seconds * 1000)
    restore_statement = _mysql_set(connection, settings)
    restore = _if_usable(connection, functools.partial(
        connection.exec_driver_sql, restore_statement))

    # The chain's last row is read, and the table made, on other
    # connections of the engine: bound them too (whatever thread opens
    # them meanwhile), and set them back as they go back to the pool.
    def bound_other(other: 'Connection') -> None:
        other.connection.info[_RESTORE_INFO] = _mysql_set(other, settings)
    engine = connection.engine
    event.listen(engine, 'engine_connect', bound_other)
    if not event.contains(engine.pool, 'checkin', _restore_at_checkin):
        event.listen(engine.pool, 'checkin', _restore_at_checkin)

    def restore_all() -> None:
        event.remove(engine, 'engine_connect', bound_other)
        restore()
    return restore_all


def _mysql_set(connection: 'Connection',
               settings: Mapping[str, float]) -> str:
    """Set ``settings`` (numbers) for ``connection``'s session; return the
    statement setting them back."""
    old = connection.exec_driver_sql('SELECT ' + ', '.join(
        '@@SESSION.%s' % name for name in settings)).one()

    def statement(values: Iterable[tuple[str, object]]) -> str:
        return 'SET SESSION ' + ', '.join(
            '%s = %s' % (name, value) for name, value in values)
    connection.exec_driver_sql(statement(settings.items()))
    return statement(zip(settings, old))


def _restore_at_checkin(dbapi_connection: Any,
                        connection_record: 'ConnectionPoolEntry') -> None:
    """A pool ``checkin`` hook: set back the session of a connection that
    :func:`_mysql` bounded."""
    restore = connection_record.info.pop(_RESTORE_INFO, None)
    if restore is None or dbapi_connection is None:
        return
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(restore)
        finally:
            cursor.close()
    except Exception as error:
        log.debug('could not set a session back: %s', error)


def _sqlite(connection: 'Connection',
            seconds: float) -> Callable[[], None]:
    # The busy timeout; and the write lock taken first (BEGIN IMMEDIATE)
    # in short waits, between which Ctrl-C is seen.
    deadline = time.monotonic() + seconds
    # A number: SQLite always has a busy timeout.
    old = cast(int, connection.exec_driver_sql(
        'PRAGMA busy_timeout').scalar())

    def set_to(milliseconds: float) -> None:
        connection.exec_driver_sql('PRAGMA busy_timeout = %d' % milliseconds)
    restore = _if_usable(connection, lambda: set_to(old))
    dbapi_connection = connection.connection.dbapi_connection
    if not getattr(dbapi_connection, 'in_transaction', True):
        set_to(SQLITE_SLICE * 1000)
        try:
            _begin_immediate(connection, deadline)
        except BaseException:
            quietly(restore)
            raise
    set_to(max(0.0, deadline - time.monotonic()) * 1000)
    return restore


def _begin_immediate(connection: 'Connection', deadline: float) -> None:
    from sqlalchemy.exc import OperationalError
    while True:
        try:
            connection.exec_driver_sql('BEGIN IMMEDIATE')
            return
        except OperationalError as error:
            if ('locked' not in str(error.orig) or
                    time.monotonic() >= deadline):
                raise
        time.sleep(SQLITE_SLICE)


#: Per :attr:`.dialects.Server.wait_bound`: ``bound(connection, seconds)``
#: bounds the waits of ``connection``'s statements and returns a callable
#: restoring them.
BOUNDS: dict[str, Callable[['Connection', float], Callable[[], None]]] = {
    dialects.TRANSACTION_TIMEOUTS: _postgresql,
    dialects.SESSION_TIMEOUTS: _mysql,
    dialects.BUSY_TIMEOUT: _sqlite,
}
