"""The tamper-evident chain's writer: the link a new row takes from the
rows before it (what a row's hash covers: :mod:`.hashing`), read from
the table's tail or kept from the last rows written.

:class:`ChainWriter` links the rows an Auditor writes, under a lock of
the kind the server has (see :mod:`.dialects`) that makes the table's
writers take turns until they commit (:mod:`.locks`).  SQLAlchemy is
imported inside the functions that need it.
"""
import weakref
from typing import TYPE_CHECKING
from typing import Any
from typing import Iterable
from typing import MutableMapping
from typing import NamedTuple
from typing import Optional
from typing import Sequence

from . import compat
from . import dialects
from . import logs
from . import readers
from .errors import first_line
from .hashing import chain_hash
from .hashing import chain_key
from .hashing import fold
from .locks import CHAIN_LOCK_INFO
from .locks import ChainLock
from .stored import as_stored
from .values import ID_COLUMN
from .values import ROW_HASH_COLUMN
from .waits import usable

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection
    from sqlalchemy.engine import Dialect
    from sqlalchemy.engine import Transaction
    from sqlalchemy.sql import Select
    from sqlalchemy.types import TypeEngine

#: A row's values as stored, in the order of its query's columns.
StoredRow = Sequence[Any]


def tail_query(table: 'Table', names: Sequence[str],
               dialect: 'Dialect') -> 'Select[Any]':
    """SELECT the table's last chained row and the unchained rows after
    it, oldest first: each row's stored hash, then its values of the
    columns ``names`` as stored (see :mod:`.stored`)."""
    from sqlalchemy import select
    row_id, stored = table.c[ID_COLUMN], table.c[ROW_HASH_COLUMN]
    return select(
        stored, *[as_stored(table.c[name], dialect) for name in names]
    ).where(row_id >= _last_chained_id(table)).order_by(row_id)


def _last_chained_id(table: 'Table') -> Any:
    """The id of the table's last chained row (NULL where there is
    none), as a scalar subquery: read from the end of the primary key,
    which stops at the first chained row rather than reading them all
    (as ``MAX(id)`` with a condition does on SQLite and MySQL)."""
    from sqlalchemy import select
    row_id, stored = table.c[ID_COLUMN], table.c[ROW_HASH_COLUMN]
    return select(row_id).where(stored.isnot(None)).order_by(
        row_id.desc()).limit(1).scalar_subquery()


def link_after(tail: Sequence[StoredRow],
               key: Optional[bytes] = None) -> object:
    """The link a new row takes after the rows of :func:`tail_query`:
    None where no row is chained yet."""
    if not tail:
        return None
    (last, *_), unchained = tail[0], tail[1:]
    return fold(last, [row[1:] for row in unchained], key)


def last_hash_query(table: 'Table') -> 'Select[Any]':
    """SELECT the stored hash of the rows :func:`tail_query` finds, at
    most two: where it finds one, the link after it is its hash, and
    none of the values is needed (a query SQLAlchemy compiles once)."""
    from sqlalchemy import select
    row_id, stored = table.c[ID_COLUMN], table.c[ROW_HASH_COLUMN]
    return select(stored).where(row_id >= _last_chained_id(table)).order_by(
        row_id).limit(2)


class _Link(NamedTuple):
    """The link after the last row written to a table on a connection,
    the (sub)transactions it was written in and, for the rows of a step
    where the server counts them, the migration run and the commits of
    other connections then (see :func:`.dialects.commits_by_others`)."""
    link: object
    root: 'weakref.ref[Transaction]'
    nested: 'Optional[weakref.ref[Transaction]]'
    run: 'Optional[weakref.ref[Any]]'
    others: Optional[int]


#: The key of ``Connection.info`` (the driver's connection's) holding
#: table's full name -> the link after the last row written there (see
#: :meth:`ChainWriter.written`), shared by every writer of the table and
#: every ``Connection`` of the driver's connection.
LINKS_INFO = 'audit_alembic_chain_links'


def _take_kept(connection: 'Connection', table: str) -> Optional[_Link]:
    """The link kept for ``table`` on ``connection``, taken out: kept
    again once new rows are written."""
    links = connection.info.get(LINKS_INFO)
    return links.pop(table, None) if links else None


def forget_links(connection: 'Connection', *args: Any) -> None:
    """Drop the links kept on ``connection``: a listener of rollbacks,
    which may undo the rows they follow."""
    if usable(connection):
        connection.info.pop(LINKS_INFO, None)
    # Else its driver's connection is dropped, and its info with it.


class ChainWriter:
    """Links the rows an Auditor writes to ``table``: gives each its
    ``row_hash`` after the table's last chained row, under a lock that
    makes the table's writers take turns until they commit.

    :param names: the columns a row's hash covers, in the order of
        :data:`.values.CHAINED` and :data:`.values.CHAINED_WHEN_SET` (see
        :func:`.values.chained_names`).

    Where the rows are written on one connection in one transaction
    that holds the lock all along (Alembic's steps), the link after the
    last one written is kept (:meth:`written`) rather than read again:
    no other writer can have written in between.  It is not used once
    a savepoint begins or ends, a rollback comes, or the lock is
    released (see :meth:`_kept_link`); once the transaction commits, only
    for the next step of the same migration run, where the server shows
    that no other connection has committed since (SQLite's
    ``data_version``, read under the lock of the next step's
    transaction: see :meth:`_committed_link`).
    """

    def __init__(self, table: 'Table', names: Sequence[str]) -> None:
        self.table = table
        self.names = names
        # Text columns get text, so that what is hashed is what is
        # stored, whatever the value's type.
        self._text_columns = [name for name in names
                              if _is_text(table.c[name].type)]
        self._lock = ChainLock(table)
        # dialect name -> tail_query
        self._tail_queries: dict[str, 'Select[Any]'] = {}
        self._last_hash_query = last_hash_query(table)

    def link(self, connection: 'Connection',
             rows: Iterable[MutableMapping[str, Any]],
             locked: bool = False, run: Any = None) -> Optional[int]:
        """Give each of ``rows`` its ``row_hash``, taking the chain's lock
        first unless ``locked`` (the transaction already keeps the other
        writers of the table waiting); ``run``: the migration run whose
        step they record, if any.  Return the commits of other
        connections it read under the lock (see
        :func:`.dialects.commits_by_others`), for :meth:`written`; None
        where it read none."""
        kept = _take_kept(connection, self.table.fullname)
        current = (kept if kept is not None and
                   self._kept_link(connection, kept) else None)
        if current is None and not locked:
            self.lock(connection)
        others = None
        if current is None and kept is not None and \
                self._committed_link(connection, kept, run):
            current, others = kept, kept.others
        key = chain_key()
        previous = (link_after(self._read_tail(connection), key)
                    if current is None else current.link)
        for row in rows:
            for name in self._text_columns:
                value = row.get(name)
                if value is not None and value.__class__ is not str:
                    row[name] = str(value)
            previous = row[ROW_HASH_COLUMN] = chain_hash(
                previous, [row.get(name) for name in self.names], key)
        return others

    def written(self, connection: 'Connection',
                rows: Sequence[MutableMapping[str, Any]],
                run: Any = None, others: Optional[int] = None) -> None:
        """``rows``, linked by :meth:`link`, were just INSERTed on
        ``connection`` (for a step of ``run``, if given): keep the link
        after them for the next rows of this transaction, where it holds
        the chain's lock until it ends (see :meth:`_holds_the_lock`), and
        for the next step of ``run``.  ``others``: what :meth:`link`
        returned, the commits of other connections, which cannot change
        while the transaction holds the lock (read again where None)."""
        links = connection.info.setdefault(LINKS_INFO, {})
        links.pop(self.table.fullname, None)
        if not rows or not self._holds_the_lock(connection):
            return
        root = connection.get_transaction()
        if root is None:
            return
        nested = connection.get_nested_transaction()
        links[self.table.fullname] = _Link(
            rows[-1][ROW_HASH_COLUMN], weakref.ref(root),
            None if nested is None else weakref.ref(nested),
            None if run is None else weakref.ref(run),
            None if run is None else others if others is not None else
            dialects.commits_by_others(connection, self.table.schema))

    def _kept_link(self, connection: 'Connection', kept: _Link) -> bool:
        """Whether ``kept``, the link :meth:`written` kept for the table
        on ``connection``, is still current: written in the very
        (sub)transactions still going on, the lock held since."""
        root = kept.root()
        nested = None if kept.nested is None else kept.nested()
        return not (root is None or not root.is_active or
                    connection.get_transaction() is not root or
                    (kept.nested is not None and
                     (nested is None or not nested.is_active)) or
                    connection.get_nested_transaction() is not nested or
                    not self._holds_the_lock(connection))

    def _committed_link(self, connection: 'Connection', kept: _Link,
                        run: Any) -> bool:
        """Whether ``kept`` is still current for the next step of ``run``
        although the transaction it was written in is over: written for
        a step of the same run, committed (a rollback drops it, see
        :func:`forget_links`), the chain's lock held again, and no other
        connection has committed to the database since."""
        root = kept.root()
        if (kept.others is None or run is None or kept.run is None or
                kept.run() is not run or
                (root is not None and root.is_active) or
                connection.get_transaction() is None or
                not self._holds_the_lock(connection)):
            return False
        return dialects.commits_by_others(
            connection, self.table.schema) == kept.others

    def _holds_the_lock(self, connection: 'Connection') -> bool:
        """Whether the transaction of ``connection``, having written the
        table, keeps every other writer of the table waiting until it
        ends: not in autocommit mode, and on MySQL and MariaDB while the
        session still holds the chain's lock."""
        options = connection.get_execution_options()
        level = options.get('isolation_level') or \
            compat.engine_isolation_level(connection.dialect)
        if level == 'AUTOCOMMIT':
            return False
        kind = dialects.server(connection.dialect).chain_lock
        if kind == dialects.SESSION_LOCK:
            return bool(connection.info.get(CHAIN_LOCK_INFO))
        return kind in (dialects.TRANSACTION_LOCK, dialects.WRITE_LOCK)

    def _read_tail(self, connection: 'Connection') -> Sequence[StoredRow]:
        """The last chained row and the unchained rows after it (see
        :func:`tail_query`): only its hash where there is no unchained
        row after it (see :func:`last_hash_query`)."""
        server = dialects.server(connection.dialect)
        if server.reads_a_snapshot:
            # The transaction's snapshot (REPEATABLE READ) may be older
            # than the last writer's commit: read on another connection.
            # (A locking read would take gap locks that deadlock.)
            return self._query_tail(readers.reader(connection))
        if not server.text_may_not_decode:
            return self._query_tail(connection)
        from sqlalchemy.exc import DBAPIError
        try:
            return self._query_tail(connection)
        except DBAPIError as error:
            # Text SQLite cannot decode: the chain starts anew here, and
            # verify names the row whose hash does not follow.
            logs.auditor().warning(
                'could not read the last rows of %s (%s): this row starts '
                'a new chain', self.table.name, first_line(error.orig))
            return []

    def _query_tail(self, connection: 'Connection') -> Sequence[StoredRow]:
        tail = connection.execute(self._last_hash_query).all()
        if len(tail) < 2:
            return tail
        dialect = connection.dialect
        query = self._tail_queries.get(dialect.name)
        if query is None:
            query = self._tail_queries[dialect.name] = tail_query(
                self.table, self.names, dialect)
        return connection.execute(query).all()

    def locked_by_version_table(self, ctx: Any) -> bool:
        """Whether the step's own write of the version table, which comes
        before the hook, already holds the lock the chain needs: where
        writers take turns per database file (SQLite), when the two
        tables share one."""
        return (dialects.server(ctx.dialect).one_writer_per_file and
                (self.table.schema or 'main') ==
                (ctx.version_table_schema or 'main'))

    def lock(self, connection: 'Connection') -> None:
        """Take the chain's lock for the transaction of ``connection``
        (see :mod:`.locks`)."""
        self._lock.take(connection)


def _is_text(type_: 'TypeEngine[Any]') -> bool:
    from sqlalchemy import String
    return isinstance(type_, String)
