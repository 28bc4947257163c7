"""A second connection that reads what other sessions have committed, for
servers whose transactions read a snapshot (MySQL and MariaDB, under
REPEATABLE READ): the chain's last link, and what the schema watch
asks of other runs, are read there, since the writer's own transaction
may see rows older than the last writer's commit.

One is kept per writing connection, in autocommit mode (each read sees
the latest commits), from the first read until the writer's connection
goes back to its pool, is invalidated or closes: opening one per step
would cost a connection a step, about 20 ms on MariaDB where the pool
keeps none (Alembic's ``env.py`` uses ``NullPool``).
"""
from typing import TYPE_CHECKING
from typing import Any

from . import logs
from .waits import usable

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

#: Where the writer's connection's ``info`` keeps its reader.
READER_INFO = 'audit_alembic_reader'
_POOL_EVENTS = ('reset', 'invalidate', 'close')


def reader(connection: 'Connection') -> 'Connection':
    """The autocommit connection reading for ``connection`` (opened on
    first use, from the same engine)."""
    kept = connection.info.get(READER_INFO)
    if kept is not None:
        if usable(kept):
            return kept  # type: ignore[no-any-return]
        kept.close()  # the server ended its session
    from sqlalchemy import event
    other = connection.engine.connect()
    if other.in_transaction():
        # Begun by a listener of the engine's new connections (one
        # bounding their lock waits, say): over before autocommit.
        other.rollback()
    other.execution_options(isolation_level='AUTOCOMMIT')
    connection.info[READER_INFO] = other
    pool = connection.engine.pool
    for name in _POOL_EVENTS:
        if not event.contains(pool, name, _close_reader):
            event.listen(pool, name, _close_reader)
    return other


def _close_reader(dbapi_connection: Any, connection_record: Any,
                  state_or_error: Any = None) -> None:
    """Close the reader of the connection going back to its pool, being
    invalidated or closing, if it has one: a pool listener."""
    info = getattr(connection_record, 'info', None)
    other = info.pop(READER_INFO, None) if info is not None else None
    if other is None:
        return
    try:
        other.close()
    except Exception as error:  # pragma: no cover (a dead connection)
        logs.auditor().debug('could not close a reader: %s', error)
