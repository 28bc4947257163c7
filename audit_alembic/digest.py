"""Digests: a line that witnesses the chain's state, to keep outside the
database.

Without a key anyone who can write the database can recompute the chain;
a copy of its last link kept elsewhere (a deploy's log, a ticket, another
system) shows what the chain alone cannot: its last rows deleted, the
table dropped and rebuilt, rows rewritten with every later hash
recomputed.  Version 1 of the format is one line of fields separated by
single spaces (here folded)::

    aa-digest-1 table=alembic_version_history rows=42 last=57
    hash=9f2c... at=2026-12-07T03:30:22Z

``table`` is the history table (``schema.table`` where it has a schema;
characters other than letters, digits, ``._-`` percent-encoded as in
URLs); ``rows`` the number of chained rows (those with a ``row_hash``);
``last`` the id of the last of them and ``hash`` its ``row_hash``; ``at``
when the digest was taken, UTC, to the second.  Where ``AUDIT_ALEMBIC_KEY``
is set, `` hmac=`` follows with the hex HMAC-SHA-256, under that key, of
the UTF-8 line before it (everything up to the space before ``hmac=``),
so that a digest cannot be made up without the key either.  By hand::

    printf %s 'aa-digest-1 table=... at=...' |
        openssl dgst -sha256 -hmac "$AUDIT_ALEMBIC_KEY"
"""
import datetime
import hashlib
import hmac
import logging
import re
import urllib.parse
from typing import TYPE_CHECKING
from typing import Any
from typing import NamedTuple
from typing import Optional

from . import logs
from .values import ID_COLUMN
from .values import ROW_HASH_COLUMN

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection

#: What a digest of this format starts with.
PREFIX = 'aa-digest-1'
#: The fields after the prefix, in their order.
FIELDS = ('table', 'rows', 'last', 'hash', 'at')
_LINE = re.compile(
    r'%s table=(?P<table>[A-Za-z0-9._%%-]+) rows=(?P<rows>\d+) '
    r'last=(?P<last>-?\d+) hash=(?P<hash>\S+) '
    r'at=(?P<at>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)'
    r'(?: hmac=(?P<hmac>[0-9a-f]{64}))?' % re.escape(PREFIX))


class Digest(NamedTuple):
    """A digest: the table's full name, the number of chained rows, the
    id and ``row_hash`` of the last, when it was taken (UTC, naive), and
    its HMAC (hex) or None."""

    table: str
    rows: int
    last_id: int
    last_hash: str
    taken_at: datetime.datetime
    hmac: Optional[str] = None

    def body(self) -> str:
        """The line without its HMAC: what the HMAC covers."""
        return '%s table=%s rows=%d last=%d hash=%s at=%s' % (
            PREFIX, urllib.parse.quote(self.table, safe='._-'), self.rows,
            self.last_id, self.last_hash,
            self.taken_at.strftime('%Y-%m-%dT%H:%M:%SZ'))

    def line(self) -> str:
        """The digest as one line."""
        body = self.body()
        return body if self.hmac is None else '%s hmac=%s' % (body,
                                                              self.hmac)

    def signed(self, key: Optional[bytes]) -> 'Digest':
        """The digest with its HMAC under ``key`` (None: without)."""
        return self._replace(hmac=None if not key else _mac(key,
                                                            self.body()))

    def signature_holds(self, key: bytes) -> bool:
        """Whether its HMAC is the one ``key`` gives."""
        return self.hmac is not None and hmac.compare_digest(
            self.hmac, _mac(key, self.body()))


def _mac(key: bytes, body: str) -> str:
    return hmac.new(key, body.encode('utf-8'), hashlib.sha256).hexdigest()


def parse(text: str) -> Digest:
    """The :class:`Digest` that line ``text`` holds.

    :raise ValueError: naming what is wrong, if it is no digest of this
        format.
    """
    text = text.strip()
    match = _LINE.fullmatch(text)
    if match is None:
        if not text.startswith(PREFIX + ' '):
            raise ValueError('not a digest (it should start with %r): %r'
                             % (PREFIX, _shown(text)))
        raise ValueError('malformed digest (expected %s %s[ hmac=HEX]): '
                         '%r' % (PREFIX, ' '.join('%s=...' % name
                                                  for name in FIELDS),
                                 _shown(text)))
    return Digest(
        urllib.parse.unquote(match['table']), int(match['rows']),
        int(match['last']), match['hash'],
        datetime.datetime.strptime(match['at'], '%Y-%m-%dT%H:%M:%SZ'),
        match['hmac'])


def _shown(text: str, length: int = 80) -> str:
    return text if len(text) <= length else text[:length] + '...'


def full_name(table: 'Table') -> str:
    """The name a digest gives ``table``."""
    return '%s.%s' % (table.schema, table.name) if table.schema \
        else table.name


def take(connection: 'Connection', table: 'Table', id_name: str = ID_COLUMN,
         key: Optional[bytes] = None) -> Optional[Digest]:
    """The digest of ``table``'s chain as ``connection`` sees it (its id
    column named ``id_name``), signed with ``key``; None where no row is
    chained yet."""
    from sqlalchemy import func
    from sqlalchemy import select
    row_id, stored = table.c[id_name], table.c[ROW_HASH_COLUMN]
    chained = stored.isnot(None)
    last = connection.execute(
        select(row_id, stored).where(chained).order_by(row_id.desc())
        .limit(1)).first()
    if last is None:
        return None
    count = connection.scalar(select(func.count()).select_from(table)
                              .where(chained))
    now = datetime.datetime.now(datetime.timezone.utc).replace(
        tzinfo=None, microsecond=0)
    return Digest(full_name(table), int(count or 0), int(last[0]),
                  _text(last[1]), now).signed(key)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode('utf-8', 'replace')
    return str(value)


def log_digest(connection: 'Connection', table: 'Table', own: bool = True,
               timeout: Optional[float] = None) -> None:
    """Log the digest of ``table``'s chain on ``audit_alembic.auditor``
    at INFO (``audit digest: ...``), where INFO is on: a copy outside
    the database, in the deploy's own log.  Read in a transaction of its
    own (``own``), else in the caller's; ``timeout`` bounds its waits for
    locks.  Never raises: a problem is one warning."""
    import contextlib

    from . import transactions
    from .hashing import chain_key
    from .errors import failure_summary
    from .waits import bounded
    from .waits import usable
    log = logs.auditor()
    if not log.isEnabledFor(logging.INFO):
        return
    try:
        if not usable(connection):
            return
        with contextlib.ExitStack() as stack:
            if timeout is not None:
                stack.enter_context(bounded(connection, timeout))
            stack.enter_context(transactions.own_transaction(connection, own))
            found = take(connection, table, key=chain_key())
    except Exception as problem:
        log.warning('could not take the digest of %s: %s', table.name,
                    failure_summary(problem))
        return
    if found is not None:
        log.info('audit digest: %s', found.line())
