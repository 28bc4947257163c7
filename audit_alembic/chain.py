"""The tamper-evident chain: what a row's hash covers, and the link a new
row takes from the rows before it.

A chained row's ``row_hash`` is the SHA-256 (an HMAC-SHA-256 with
``AUDIT_ALEMBIC_KEY``) of the link before it, a newline and the row's
values in canonical form.  The link before a row is the hash of the last
chained row before it, with every unchained row in between (an offline
script's) folded in, oldest first, as if it were chained: the next
online writer vouches for the rows it finds, so that a row inserted
between two chained rows later breaks the link of the second.

Whatever the stored hashes and values hold (NULL, non-ASCII text, bytes,
numbers), linking to them never fails: the writer hashes them as stored,
and ``verify`` recomputes the same.
"""
import datetime
import hashlib
import hmac
import json
import os

from .stored import as_stored

#: The environment variable holding the key of the chain's HMAC.
KEY_VARIABLE = 'AUDIT_ALEMBIC_KEY'


def chain_key():
    """The key of the chain (``AUDIT_ALEMBIC_KEY``, UTF-8), or None where
    it is unset or empty: plain SHA-256 then."""
    key = os.environ.get(KEY_VARIABLE)
    return key.encode('utf-8') if key else None


def canonical_row(values):
    """The bytes a row's hash covers: its ``values`` (in the order of
    :data:`.values.CHAINED`) as a compact JSON array, UTF-8, each value
    null or text: times as ``YYYY-MM-DDTHH:MM:SS.ffffff`` in UTC (naive
    times are UTC), anything else as ``str()`` gives it."""
    return _encode([value if value is None or value.__class__ is str
                    else _canonical(value) for value in values]).encode(
                        'utf-8', 'surrogatepass')


_encode = json.JSONEncoder(ensure_ascii=False, separators=(',', ':')).encode


def _canonical(value):
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(
                tzinfo=None)
        return value.isoformat(timespec='microseconds')
    return str(value)


def _hash_bytes(stored):
    """A stored ``row_hash`` as the bytes the next link starts with:
    text in UTF-8, bytes as they are, anything else as its text."""
    if stored is None:
        return b''
    if isinstance(stored, bytes):
        return stored
    if not isinstance(stored, str):
        stored = str(stored)
    return stored.encode('utf-8', 'surrogatepass')


def chain_hash(previous, values, key=None):
    """The ``row_hash`` of a row: SHA-256 (HMAC-SHA-256 with ``key``) of
    the link before it (``previous``, the hex hash as stored; empty for
    the first), a newline and :func:`canonical_row` of ``values``."""
    message = _hash_bytes(previous) + b'\n' + canonical_row(values)
    if key:
        return hmac.new(key, message, hashlib.sha256).hexdigest()
    return hashlib.sha256(message).hexdigest()


def fold(previous, unchained, key=None):
    """The link after the chained row whose hash is ``previous`` and the
    unchained rows after it (their values, oldest first)."""
    for values in unchained:
        previous = chain_hash(previous, values, key)
    return previous


def tail_query(table, names, dialect, id_name='id', hash_name='row_hash'):
    """SELECT the table's last chained row and the unchained rows after
    it, oldest first: each row's stored hash, then its values of the
    columns ``names`` as stored (see :mod:`.stored`)."""
    from sqlalchemy import func
    from sqlalchemy import select
    row_id, stored = table.c[id_name], table.c[hash_name]
    last = select(func.max(row_id)).where(
        stored.isnot(None)).scalar_subquery()
    return select(
        stored, *[as_stored(table.c[name], dialect) for name in names]
    ).where(row_id >= last).order_by(row_id)


def link_after(tail, key=None):
    """The link a new row takes after the rows of :func:`tail_query`:
    None where no row is chained yet."""
    if not tail:
        return None
    (last, *_), unchained = tail[0], tail[1:]
    return fold(last, [row[1:] for row in unchained], key)
