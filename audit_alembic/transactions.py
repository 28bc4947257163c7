"""Statements in a transaction, or savepoint, of their own: where what
fails inside must leave the caller's transaction usable."""
import contextlib
from typing import TYPE_CHECKING
from typing import Any
from typing import ContextManager

from .dialects import server

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


def savepoint(connection: 'Connection') -> ContextManager[Any]:
    """A savepoint on ``connection`` where a failed statement spoils the
    transaction (PostgreSQL), so that what fails inside leaves the
    transaction usable; elsewhere a context that does nothing."""
    if (server(connection.dialect).failure_spoils_the_transaction and
            connection.in_transaction()):
        return connection.begin_nested()
    return contextlib.nullcontext()


def own_transaction(connection: 'Connection',
                    own: bool = True) -> ContextManager[Any]:
    """A transaction of its own on ``connection`` (committing first what
    it began before, e.g. completing the history table), or where
    ``own`` is false a :func:`savepoint` in the caller's."""
    if own:
        if connection.in_transaction():
            connection.commit()
        return connection.begin()
    return savepoint(connection)
