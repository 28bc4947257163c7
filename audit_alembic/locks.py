"""Who waits for whom: the lock that makes a history table's writers
take turns on its chain, and the mark a run holds while it goes.

The chain's lock is of the kind the server has (see :mod:`.dialects`):
``pg_advisory_xact_lock`` on PostgreSQL, held until the transaction
ends; ``GET_LOCK`` on MySQL and MariaDB, a lock of the session named
per database and table, released as the next transaction begins or the
connection goes back to its pool; on SQLite a write that changes
nothing, which takes the database file's write lock.  The run mark (MySQL
and MariaDB only, whose DDL other sessions see before the run's rows) is
a session lock nobody waits for: a drift check that finds it held leaves
the comparison to the run holding it (see :mod:`.drift`).
"""
import hashlib
from typing import TYPE_CHECKING
from typing import Any
from typing import Optional

from . import dialects
from . import logs
from .exc import AuditRuntimeError
from .waits import usable

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection
    from sqlalchemy.sql import Update

#: Seconds a writer waits for the chain's lock on MySQL and MariaDB.
CHAIN_LOCK_TIMEOUT = 60
#: Where a connection's ``info`` keeps the name of the chain lock it holds.
CHAIN_LOCK_INFO = 'audit_alembic_chain_lock'


class ChainLock:
    """The lock of ``table``'s chain."""

    def __init__(self, table: 'Table') -> None:
        self.table = table
        #: A 63-bit number naming it on PostgreSQL.
        self.key = _lock_key(table)
        #: The statement taking it on SQLite.
        self.sqlite_statement = _sqlite_lock_statement(table)

    def take(self, connection: 'Connection') -> None:
        """Take the lock for the transaction of ``connection``."""
        from sqlalchemy import event
        kind = dialects.server(connection.dialect).chain_lock
        if kind == dialects.TRANSACTION_LOCK:
            # Held until the transaction ends.
            connection.exec_driver_sql(
                'SELECT pg_advisory_xact_lock(%d)' % self.key)
        elif kind == dialects.SESSION_LOCK:
            # Held by the session, so released once the transaction is
            # over: when the next one begins or the connection goes back
            # to its pool (or closes).
            if connection.info.get(CHAIN_LOCK_INFO):
                return
            # Named per database and table: the server's locks are
            # shared by all its databases.
            name_sql, parameters = session_lock_name(self.table)
            got, name = connection.exec_driver_sql(
                'SELECT GET_LOCK(%s, %d), %s' % (
                    name_sql, CHAIN_LOCK_TIMEOUT, name_sql),
                parameters * 2).one()
            if got != 1:
                raise AuditRuntimeError(
                    'could not lock the chain of table %s within %d seconds'
                    % (self.table.name, CHAIN_LOCK_TIMEOUT))
            connection.info[CHAIN_LOCK_INFO] = name
            pool = connection.engine.pool
            if not event.contains(pool, 'reset', _release_at_reset):
                event.listen(pool, 'reset', _release_at_reset)
        elif kind == dialects.WRITE_LOCK:
            connection.execute(self.sqlite_statement)


def release_lock(connection: 'Connection', *args: Any) -> None:
    """Release the chain lock of a session that ``connection`` holds, if
    any (a connection ``begin`` listener too)."""
    if not usable(connection):
        # Its session ends (or has ended), and frees the lock.
        logs.auditor().debug('chain lock left to the end of the session')
        return
    if CHAIN_LOCK_INFO in connection.info:
        _release_at_reset(connection.connection.dbapi_connection,
                          connection.connection)


def _release_at_reset(dbapi_connection: Any, connection_record: Any,
                      reset_state: Any = None) -> None:
    """Release the MySQL/MariaDB chain lock the connection holds, if any:
    a pool ``reset`` hook, called too as a transaction begins."""
    name = connection_record.info.pop(CHAIN_LOCK_INFO, None)
    if name is None:
        return
    # On the driver's connection: SQLAlchemy may be beginning or ending
    # a transaction.
    _release(dbapi_connection, name)


def _release(dbapi_connection: Any, name: str) -> None:
    """Release the session lock ``name`` on the driver's connection."""
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute('SELECT RELEASE_LOCK(%s)', (name,))
            cursor.fetchall()
        finally:
            cursor.close()
    except Exception as error:  # the session ends and frees it anyway
        logs.auditor().debug('could not release lock %s: %s', name,
                             error)


def _lock_key(table: 'Table') -> int:
    """A 63-bit number naming ``table``'s chain lock (its full name's
    hash): the same for every writer of the table."""
    digest = hashlib.sha256(
        ('audit_alembic:%s' % table.fullname).encode('utf-8')).digest()
    return int.from_bytes(digest[:8], 'big') >> 1


def session_lock_name(
        table: 'Table', prefix: str = 'audit_alembic_'
) -> tuple[str, tuple[str, Optional[str], str]]:
    """The SQL naming ``table``'s MySQL/MariaDB session lock, and its
    parameters: ``prefix`` and 16 hex digits of the SHA-256 of the
    table's database (its schema, else the session's) and name.  Within
    the server's limit of 64 characters, whatever the names."""
    return ("CONCAT(%s, LEFT(SHA2(CONCAT("
            "COALESCE(%s, DATABASE()), '.', %s), 256), 16))",
            (prefix, table.schema, table.name))


#: Where a connection's ``info`` keeps the name of the run mark it holds.
RUN_MARK_INFO = 'audit_alembic_run_mark'
#: What names a run mark (see :func:`mark_run`).
RUN_MARK_PREFIX = 'audit_alembic_run_'


def mark_run(connection: 'Connection', table: 'Table') -> None:
    """Where locks belong to sessions (MySQL, MariaDB, whose DDL others
    see before the run's rows): take, without waiting, a lock saying
    that a run writing ``table`` is going, held until :func:`unmark_run`.
    Nobody waits for it: :func:`run_going_elsewhere` asks for it."""
    if dialects.server(connection.dialect).chain_lock != \
            dialects.SESSION_LOCK or RUN_MARK_INFO in connection.info:
        return
    name_sql, parameters = session_lock_name(table, RUN_MARK_PREFIX)
    got, name = connection.exec_driver_sql(
        'SELECT GET_LOCK(%s, 0), %s' % (name_sql, name_sql),
        parameters * 2).one()
    if got == 1:
        connection.info[RUN_MARK_INFO] = name


def unmark_run(connection: 'Connection') -> None:
    """Release the run mark ``connection`` holds, if any."""
    if not usable(connection):
        return  # its session ends (or has ended), and frees the lock
    name = connection.info.pop(RUN_MARK_INFO, None)
    if name is not None:
        _release(connection.connection.dbapi_connection, name)


def run_going_elsewhere(connection: 'Connection', table: 'Table') -> bool:
    """Whether another session holds the run mark of ``table``."""
    if dialects.server(connection.dialect).chain_lock != \
            dialects.SESSION_LOCK:
        return False
    name_sql, parameters = session_lock_name(table, RUN_MARK_PREFIX)
    free = connection.exec_driver_sql(
        'SELECT IS_FREE_LOCK(%s)' % name_sql, parameters).scalar()
    return free == 0 and RUN_MARK_INFO not in connection.info


def _sqlite_lock_statement(table: 'Table') -> 'Update':
    """A write to ``table`` that changes nothing: on SQLite it takes the
    database's write lock, held until the transaction ends."""
    from sqlalchemy import false
    from sqlalchemy import update
    key = list(table.primary_key)[0]
    return update(table).where(false()).values({key: key})
