"""When a row's event is emitted (:mod:`.events`): once its transaction
has committed, never for a row rolled back.

:class:`RowEvents` follows the rows: they are INSERTed inside the
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
"""
import logging
import threading
import weakref
from typing import TYPE_CHECKING
from typing import Any
from typing import Callable
from typing import Mapping
from typing import Optional

from .events import Row
from .events import emit
from .events import logger

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.engine import Engine
    from sqlalchemy.engine import ExceptionContext
    from sqlalchemy.engine import RootTransaction


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
