"""When and how an Auditor's rows go into its table online.

A :class:`RowWriter` knows each connection it wrote on: the migration
contexts there that know the table exists (it is made, or completed,
once per context), and the rows held for the end of the innermost
(sub)transaction where Alembic runs all steps in one.  Every change of
(sub)transaction writes the held rows, so that they commit or roll back
with the steps they record; a rollback drops them, and forgets that the
table was made.  Rows are chained (:mod:`.chain`) as they are written,
and announced once committed (:mod:`.committed`).
"""
import logging
import weakref
from typing import TYPE_CHECKING
from typing import Any
from typing import Optional

from . import logs
from .chain import ChainWriter
from .chain import forget_links
from .locks import release_lock
from .ddl import TableMaker
from .committed import RowEvents
from .waits import usable

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection

log = logging.getLogger(logs.AUDITOR)

#: A row: column name -> value.
Row = dict[str, Any]


class ConnectionState:
    """What a writer knows of one connection: the migration contexts (one
    per Alembic command run) that know the table exists, and the rows
    held for the innermost (sub)transaction's end."""

    def __init__(self) -> None:
        self.contexts: 'weakref.WeakSet[Any]' = weakref.WeakSet()
        self.rows: list[Row] = []


class RowWriter:
    """Writes rows to ``table``: made (and completed) by ``maker``,
    chained by ``chain`` (or not, None), announced by its
    :attr:`events`."""

    def __init__(self, table: 'Table', maker: TableMaker,
                 chain: Optional[ChainWriter]) -> None:
        self.table = table
        self.maker = maker
        self.chain = chain
        #: Emits each row once committed (see :mod:`.committed`).
        self.events = RowEvents(table.name, before_end=self.write_held)
        # Built once: SQLAlchemy then reuses its compiled form.  Inline:
        # the new row's id is not needed, so none is fetched back (no
        # RETURNING on PostgreSQL); column defaults still apply.
        self._insert = table.insert().inline()
        self._connections: \
            'weakref.WeakKeyDictionary[Connection, ConnectionState]' = \
            weakref.WeakKeyDictionary()

    def ready(self, ctx: Any, recheck: bool = False) -> ConnectionState:
        """Create the table where it is missing (or complete it), once
        per migration context (``recheck``: again, where a commit that
        failed may have taken it away); return the state of its
        connection."""
        from sqlalchemy import event
        connection = ctx.connection
        state = self._connections.get(connection)
        if state is None:
            state = self._connections[connection] = ConnectionState()
            # Every change of (sub)transaction writes or drops the held
            # rows, so that those held belong to the innermost one; a
            # rollback may undo the table's creation: forget it.
            for name in ('savepoint', 'release_savepoint', 'commit',
                         'prepare_twophase'):
                event.listen(connection, name, self.write_held)
            for name in ('rollback_savepoint', 'rollback'):
                event.listen(connection, name, self.forget)
            if self.chain is not None:
                # A new transaction: the last one's rows are committed.
                event.listen(connection, 'begin', release_lock)
        if recheck or ctx not in state.contexts:
            self.maker.create(ctx)
            state.contexts.add(ctx)
        self.events.follow(connection)
        return state

    def take_held(self, connection: 'Connection') -> list[Row]:
        """The rows held on ``connection``, no longer held."""
        state = self._connections.get(connection)
        if state is None:
            return []
        rows, state.rows = state.rows, []
        return rows

    def write_held(self, connection: 'Connection', *args: Any) -> None:
        """Write the rows held on ``connection``: a listener SQLAlchemy
        calls just before the (sub)transaction ends or a savepoint
        begins, on the connection and in the transaction."""
        rows = self.take_held(connection)
        if not rows:
            return
        if not usable(connection):
            # The session is gone, and its transaction with it.
            log.debug('dropped %d held row(s): connection unusable',
                      len(rows))
            return
        self.write(connection, rows)

    def write(self, connection: 'Connection', rows: list[Row],
              locked: bool = False, run: Any = None) -> None:
        """INSERT ``rows`` in order, chained after the table's last
        chained row where there is a chain (``locked``: the transaction
        already keeps other writers of the table waiting; ``run``: the
        migration run whose step they record, if any)."""
        others = None
        if self.chain is not None:
            others = self.chain.link(connection, rows, locked, run)
        # executemany takes its columns from the first row: write each
        # run of rows with the same keys apart, in order.
        if len(rows) == 1:  # the usual case: no executemany
            connection.execute(self._insert, rows[0])
        else:
            start = 0
            for end in range(1, len(rows) + 1):
                if end == len(rows) or \
                        rows[end].keys() != rows[start].keys():
                    connection.execute(self._insert, rows[start:end])
                    start = end
        if self.chain is not None:
            self.chain.written(connection, rows, run, others)
        self.events.written(connection, rows)

    def forget(self, connection: 'Connection', *args: Any) -> None:
        """Drop the rows held on ``connection`` and forget that its
        contexts know the table: a listener of rollbacks."""
        state = self._connections.get(connection)
        if state is not None:
            state.rows = []
            state.contexts.clear()
        self.maker.forget()
        if self.chain is not None:
            forget_links(connection)
            release_lock(connection)
