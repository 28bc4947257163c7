"""Schema drift: what changed in the database outside the migrations.

With ``Auditor.create(details=True)`` every online run leaves the schema
it ends with in the trail: a snapshot (see :mod:`.snapshot`) kept once
per distinct SHA-256 in the history table's companion
(:func:`.schema.snapshot_table`), and its hash in ``schema_hash`` of the
rows written at the run's end (a failed attempt's row: after the
rollback).  Where the run wrote its rows step by step (per-migration
transactions, or a server whose DDL commits by itself), a row with
``status = 'snapshot'`` carries it, if it changed.

At the start of the next run the live schema is compared with the last
recorded snapshot; a difference is a change no migration made, recorded
as a row with ``status = 'drift'`` (its ``message`` sums the change up,
its ``schema_hash`` names the schema found) before the first step.  The
comparison is skipped while steps recorded after the last snapshot have
none of their own (a run still going step by step, or one killed
mid-way): the snapshot at that run's end settles it.

:class:`SchemaWatch` holds these rows (the snapshots behind them:
:mod:`.snapstore`); :class:`.Auditor` decides when.  Nothing here
stops a deploy: the Auditor logs a warning where a snapshot cannot be
taken or stored.
"""
import contextlib
import time
import weakref
from typing import TYPE_CHECKING
from typing import Any
from typing import Callable
from typing import Iterator
from typing import Mapping
from typing import Optional
from typing import Sequence

from . import dialects
from . import facts
from . import locks
from . import logs
from . import readers
from . import transactions
from .errors import failure_summary
from .record import DetailColumnValues
from .schemadiff import summary
from .snapstore import Baseline
from .snapstore import SnapshotStore
from .snapstore import changes_between
from .values import CHANGE_TIME_COLUMN
from .values import DRIFT
from .values import DB_USER_COLUMN
from .values import DIRECTION_COLUMN
from .values import HOST_COLUMN
from .values import ID_COLUMN
from .values import MESSAGE_LENGTH
from .values import MESSAGE_COLUMN
from .values import NEW_VERSION_COLUMN
from .values import OLD_VERSION_COLUMN
from .values import OPERATION_COLUMN
from .values import OS_USER_COLUMN
from .values import RUN_ID_COLUMN
from .values import SCHEMA_HASH_COLUMN
from .values import SNAPSHOT
from .values import STATUS_COLUMN
from .values import UP
from .values import USER_VERSION_COLUMN

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection

#: A row: column name -> value.
Row = dict[str, Any]
#: Writes rows on a connection (the Auditor's, chained).
Write = Callable[['Connection', list[Row]], None]


#: Seconds a check that finds drift on SQLite waits for a step going in
#: another process to record its row (see :meth:`SchemaWatch.check`).
SETTLE_SECONDS = 0.5


class SchemaWatch(SnapshotStore):
    """The snapshots of the schema(s) a history table's database holds,
    and the rows recording them.

    :param history: the history table (its columns named by ``names``,
        role -> name, its revisions joined by ``separator``).
    :param schemas: schemas to watch besides the connection's default.
    """

    def __init__(self, history: 'Table', names: Mapping[str, str],
                 separator: str, schemas: Sequence[str] = ()) -> None:
        super().__init__(history, names, schemas)
        self.separator = separator
        # Migration context -> the history's last id as its run began.
        self._started_after: 'weakref.WeakKeyDictionary[Any, int]' = \
            weakref.WeakKeyDictionary()

    # What the Auditor calls, each never raising but a warning logged.

    def check(self, ctx: Any, own_transaction: bool, write: Write,
              user_version: Any) -> None:
        """At a run's start: compare the live schema with the last
        snapshot and, where they differ, record a ``'drift'`` row with
        ``write(connection, rows)`` (in a transaction of its own if
        ``own_transaction``, else in the caller's).  Marks the run as
        going until :meth:`end` (see :func:`.locks.mark_run`)."""
        connection = ctx.connection
        with self._warned('check the schema for drift'), \
                transactions.own_transaction(connection, own_transaction):
            locks.mark_run(connection, self.history)
            if not self._history_exists(connection):
                self._started_after[ctx] = 0
                return
            self._started_after[ctx] = self._last_id(connection)
            baseline = self.baseline(connection)
            if baseline is None or baseline.stale:
                return
            document, digest = self.take(connection)
            if digest == baseline.schema_hash or self._moved_on(
                    connection, baseline, digest):
                return
            changes = changes_between(self, connection, baseline, document)
            message = (summary(changes, limit=MESSAGE_LENGTH)
                       if changes is not None else
                       'schema changed (the last snapshot is missing)')
            self.store(connection, document, digest)
            write(connection, [self.row(ctx, DRIFT, digest, message,
                                        user_version)])
            logs.auditor().warning(
                'schema drift since run %s (%s UTC), recorded in %s: %s',
                (baseline.run_id or '?')[:8],
                str(baseline.changed_at)[:19], self.history.name, message)

    def end(self, connection: 'Connection') -> None:
        """At a run's very end: the run is no longer going."""
        locks.unmark_run(connection)

    def _moved_on(self, connection: 'Connection', baseline: Baseline,
                  digest: str) -> bool:
        """Whether another run changed the schema while this one looked
        at it (``digest``, the live schema's hash): its mark is held, or
        the history has grown since."""
        if locks.run_going_elsewhere(connection, self.history):
            return True
        server = dialects.server(connection.dialect)
        if server.one_writer_per_file:
            # SQLite's driver runs DDL outside the step's transaction, and
            # SQLite has no lock to mark a run with: a run going elsewhere
            # shows its tables before its rows.  Give its step time to end.
            time.sleep(SETTLE_SECONDS)
            return (self.baseline(connection) != baseline or
                    self.take(connection)[1] != digest)
        if not server.reads_a_snapshot:
            return False
        # The transaction reads a snapshot older than the schema just
        # reflected: read the history now.
        return self.baseline(readers.reader(connection)) != baseline

    def stamp_rows(self, connection: 'Connection',
                   rows: Sequence[Row]) -> bool:
        """At a run's end, in its transaction: give ``rows`` (those it
        writes now) the hash of the schema.  Return whether it could."""
        digest = None
        with self._warned('take a snapshot of the schema'), \
                transactions.savepoint(connection):
            document, digest = self.take(connection)
            self.store(connection, document, digest)
        for row in rows:
            row[SCHEMA_HASH_COLUMN] = digest
        return digest is not None

    def record(self, ctx: Any, own_transaction: bool, write: Write,
               user_version: Any, first_only: bool = False) -> None:
        """At the end of a run that wrote its rows step by step: record
        the schema in a ``'snapshot'`` row, if it differs from the last
        recorded one (``first_only``: a run without steps, only if none
        is recorded yet; what changed is drift the next run may find)."""
        connection = ctx.connection
        with self._warned('record a snapshot of the schema'), \
                transactions.own_transaction(connection, own_transaction):
            if not self._history_exists(connection):
                return
            baseline = self.baseline(connection)
            if baseline is not None and first_only:
                return
            document, digest = self.take(connection)
            if baseline is not None and digest == baseline.schema_hash:
                return
            changes = None if baseline is None else changes_between(
                self, connection, baseline, document)
            message = ('first snapshot of the schema' if changes is None
                       else summary(changes, limit=MESSAGE_LENGTH))
            self.store(connection, document, digest)
            write(connection, [self.row(ctx, SNAPSHOT, digest, message,
                                        user_version)])

    def failed_attempt_hash(self, connection: 'Connection',
                            ctx: Any) -> Optional[str]:
        """The hash of the schema after a failed attempt's rollback
        (stored), or None where it cannot be had, or where another run
        wrote rows since this one began: on MySQL and MariaDB its DDL,
        seen at once, may be ahead of its rows, and a snapshot taken now
        could miss what its later rows did (the next run's settles it)."""
        with self._warned('take a snapshot of the schema'), \
                transactions.savepoint(connection):
            if self._others_wrote(connection, ctx):
                return None
            document, digest = self.take(connection)
            self.store(connection, document, digest)
            return digest
        return None

    def _last_id(self, connection: 'Connection') -> int:
        from sqlalchemy import func
        from sqlalchemy import select
        last = connection.scalar(select(func.max(
            self.history.c[self.names[ID_COLUMN]])))
        return int(last or 0)

    def _others_wrote(self, connection: 'Connection', ctx: Any) -> bool:
        """Whether rows of another run went into the history since the
        run of ``ctx`` began (unknown: as if they did)."""
        from sqlalchemy import or_
        from sqlalchemy import select
        started_after = self._started_after.get(ctx)
        if started_after is None:
            return True
        c = self.history.c
        run_id = facts.run_of(ctx).id
        row_id = c[self.names[ID_COLUMN]]
        query = select(row_id).where(
            row_id > started_after,
            or_(c[RUN_ID_COLUMN].is_(None), c[RUN_ID_COLUMN] != run_id)
        ).limit(1)
        if not dialects.server(connection.dialect).reads_a_snapshot:
            return connection.execute(query).first() is not None
        # The transaction's snapshot may be older than the table (made
        # aside) and than the other run's rows: read on another
        # connection.
        return readers.reader(connection).execute(query).first() is not None

    @contextlib.contextmanager
    def _warned(self, what: str) -> Iterator[None]:
        try:
            yield
        except Exception as problem:
            logs.auditor().warning(
                'could not %s of %s: %s', what, self.history.name,
                failure_summary(problem))

    def _history_exists(self, connection: 'Connection') -> bool:
        from sqlalchemy import inspect
        return inspect(connection).has_table(self.history.name,
                                             schema=self.history.schema)

    def row(self, ctx: Any, status: str, schema_hash: str, message: str,
            user_version: Any) -> Row:
        """A row of the history for ``status`` (``'drift'`` or
        ``'snapshot'``), no step: at the revisions the database is at,
        with who, where and when, like a step's."""
        heads = self.separator.join(sorted(ctx.get_current_heads()))
        names = self.names
        row = {
            names[NEW_VERSION_COLUMN]: heads,
            names[OLD_VERSION_COLUMN]: heads,
            names[OPERATION_COLUMN]: status,
            names[DIRECTION_COLUMN]: UP,
            names[USER_VERSION_COLUMN]: user_version,
            names[CHANGE_TIME_COLUMN]: DetailColumnValues.change_time(
                ctx=ctx),
            STATUS_COLUMN: status,
            SCHEMA_HASH_COLUMN: schema_hash,
            MESSAGE_COLUMN: message,
        }
        for column, value in ((RUN_ID_COLUMN, DetailColumnValues.run_id),
                              (DB_USER_COLUMN, DetailColumnValues.db_user),
                              (OS_USER_COLUMN, DetailColumnValues.os_user),
                              (HOST_COLUMN, DetailColumnValues.host)):
            row[column] = value(ctx=ctx)
        return row
