"""Where a history table's schema snapshots are kept (see :mod:`.drift`
for when): once per distinct SHA-256, in the table's companion
(:func:`.schema.snapshot_table`), named by the ``schema_hash`` of the
history's rows.

:class:`SnapshotStore` takes the live schema's snapshot (see
:mod:`.snapshot`), stores it, reads it back, and finds the last one the
history names (its :class:`Baseline`); :func:`changes_between` compares
it with another (see :mod:`.schemadiff`).
"""
from typing import TYPE_CHECKING
from typing import Any
from typing import Mapping
from typing import NamedTuple
from typing import Optional
from typing import Sequence

from . import dialects
from . import schema
from . import snapshot
from .schemadiff import Change
from .schemadiff import diff
from .snapshot import Entry
from .stored import as_stored
from .values import ACCEPTED
from .values import CHANGE_TIME_COLUMN
from .values import FIRST_SEEN_COLUMN
from .values import ID_COLUMN
from .values import RUN_ID_COLUMN
from .values import SCHEMA_HASH_COLUMN
from .values import SNAPSHOT_COLUMN
from .values import STATUS_COLUMN
from .values import CommonColumnValues

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection


class Baseline(NamedTuple):
    """The last recorded snapshot: the id, run and time of the row
    naming it, its hash, and whether steps were recorded after it
    without one (``stale``)."""

    row_id: Any
    run_id: Optional[str]
    #: Its time; the value as stored where it is not one.
    changed_at: Any
    schema_hash: str
    stale: bool


class SnapshotStore:
    """The snapshots of the schema(s) a history table's database holds,
    kept in the table's companion.

    :param history: the history table (its columns named by ``names``,
        role -> name).
    :param schemas: schemas to snapshot besides the connection's default.
    """

    def __init__(self, history: 'Table', names: Mapping[str, str],
                 schemas: Sequence[str] = ()) -> None:
        self.history = history
        self.snapshots = schema.snapshot_table(history)
        self.names = names
        self.schemas: tuple[Optional[str], ...] = (None,) + tuple(
            s for s in schemas if s is not None)
        self.exclude = [(history.schema, history.name),
                        (history.schema, self.snapshots.name)]

    def take(self, connection: 'Connection') -> tuple[Entry, str]:
        """``(snapshot, hash)`` of the live schema, read on
        ``connection`` in its transaction."""
        document = snapshot.take(connection, self.schemas, self.exclude)
        return document, snapshot.snapshot_hash(document)

    def baseline(self, connection: 'Connection') -> Optional[Baseline]:
        """The :class:`Baseline` of the history, or None where no row
        names a snapshot yet."""
        from sqlalchemy import and_
        from sqlalchemy import or_
        from sqlalchemy import select
        c = self.history.c
        row_id = c[self.names[ID_COLUMN]]
        # The time as stored where it is not one (never a crash).
        changed_at = as_stored(c[self.names[CHANGE_TIME_COLUMN]],
                               connection.dialect)
        last = connection.execute(
            select(row_id, c[RUN_ID_COLUMN], changed_at,
                   c[SCHEMA_HASH_COLUMN])
            .where(c[SCHEMA_HASH_COLUMN].isnot(None))
            .order_by(row_id.desc()).limit(1)).first()
        if last is None:
            return None
        later = connection.execute(
            select(row_id).where(and_(
                row_id > last[0], c[SCHEMA_HASH_COLUMN].is_(None),
                or_(c[STATUS_COLUMN].is_(None),
                    c[STATUS_COLUMN] != ACCEPTED))).limit(1)).first()
        row_id_found, run_id, changed_at, schema_hash = last
        return Baseline(row_id_found, run_id, changed_at, schema_hash,
                        stale=later is not None)

    def stored(self, connection: 'Connection',
               schema_hash: str) -> Optional[Entry]:
        """The snapshot of hash ``schema_hash`` in the companion table,
        or None."""
        from sqlalchemy import select
        text = connection.scalar(
            select(self.snapshots.c[SNAPSHOT_COLUMN]).where(
                self.snapshots.c[SCHEMA_HASH_COLUMN] == schema_hash))
        return None if text is None else snapshot.load(text)

    def store(self, connection: 'Connection', document: Entry,
              schema_hash: str) -> None:
        """Keep ``document`` in the companion table, unless it is there
        (another writer may be storing it at the same moment)."""
        from sqlalchemy import select
        from sqlalchemy.exc import IntegrityError
        column = self.snapshots.c[SCHEMA_HASH_COLUMN]
        if connection.scalar(select(column).where(column == schema_hash)):
            return
        row = {SCHEMA_HASH_COLUMN: schema_hash,
               SNAPSHOT_COLUMN: snapshot.canonical_json(document),
               FIRST_SEEN_COLUMN: CommonColumnValues.change_time()}
        guarded = dialects.server(
            connection.dialect).failure_spoils_the_transaction
        try:
            if guarded:
                with connection.begin_nested():
                    connection.execute(self.snapshots.insert(), row)
            else:
                connection.execute(self.snapshots.insert(), row)
        except IntegrityError:
            if not connection.scalar(
                    select(column).where(column == schema_hash)):
                raise


def changes_between(watch: SnapshotStore, connection: 'Connection',
                    baseline: Baseline,
                    document: Entry) -> Optional[list[Change]]:
    """The :class:`.schemadiff.Change` list from the snapshot ``baseline``
    names to ``document``; None where the stored snapshot is missing."""
    before = watch.stored(connection, baseline.schema_hash)
    if before is None:
        return None
    return diff(before, document)
