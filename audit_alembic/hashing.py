"""What a chained row's hash covers: the canonical form of its values,
the key, and the link from the rows before it.

A chained row's ``row_hash`` is the SHA-256 (an HMAC-SHA-256 with
``AUDIT_ALEMBIC_KEY``) of the link before it, a newline and the row's
values in canonical form.  The link before a row is the hash of the last
chained row before it, with every unchained row in between (an offline
script's) folded in, oldest first, as if it were chained: the next
online writer vouches for the rows it finds, so that a row inserted
between two chained rows later breaks the link of the second.

Whatever the stored hashes and values hold (NULL, non-ASCII text, bytes,
numbers), linking to them never fails: the writer (:mod:`.chain`) hashes
them as stored, and ``verify`` recomputes the same.  Nothing here needs
SQLAlchemy.
"""
import datetime
import hashlib
import hmac
import json
import os
from typing import Any
from typing import Iterable
from typing import Optional
from typing import Sequence

from .values import CHAINED

#: The environment variable holding the key of the chain's HMAC.
KEY_VARIABLE = 'AUDIT_ALEMBIC_KEY'


def chain_key() -> Optional[bytes]:
    """The key of the chain (``AUDIT_ALEMBIC_KEY``, UTF-8), or None where
    it is unset or empty: plain SHA-256 then."""
    key = os.environ.get(KEY_VARIABLE)
    return key.encode('utf-8') if key else None


def canonical_row(values: Sequence[Any]) -> bytes:
    """The bytes a row's hash covers: its ``values`` (in the order of
    :data:`.values.CHAINED`, then those of :data:`.values.CHAINED_WHEN_SET`
    that are not NULL) as a compact JSON array, UTF-8, each value null
    or text: times as ``YYYY-MM-DDTHH:MM:SS.ffffff`` in UTC (naive times
    are UTC), anything else as ``str()`` gives it."""
    if len(values) > _ALWAYS:
        values = list(values[:_ALWAYS]) + [
            value for value in values[_ALWAYS:] if value is not None]
    return _encode([value if value is None or value.__class__ is str
                    else _canonical(value) for value in values]).encode(
                        'utf-8', 'surrogatepass')


#: How many of a row's chained values are covered even when NULL.
_ALWAYS = len(CHAINED)


_encode = json.JSONEncoder(ensure_ascii=False, separators=(',', ':')).encode


def _canonical(value: object) -> str:
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(
                tzinfo=None)
        return value.isoformat(timespec='microseconds')
    return str(value)


def _hash_bytes(stored: object) -> bytes:
    """A stored ``row_hash`` as the bytes the next link starts with:
    text in UTF-8, bytes as they are, anything else as its text."""
    if stored is None:
        return b''
    if isinstance(stored, bytes):
        return stored
    if not isinstance(stored, str):
        stored = str(stored)
    return stored.encode('utf-8', 'surrogatepass')


def chain_hash(previous: object, values: Sequence[Any],
               key: Optional[bytes] = None) -> str:
    """The ``row_hash`` of a row: SHA-256 (HMAC-SHA-256 with ``key``) of
    the link before it (``previous``, the hex hash as stored; empty for
    the first), a newline and :func:`canonical_row` of ``values``."""
    message = _hash_bytes(previous) + b'\n' + canonical_row(values)
    if key:
        return hmac.new(key, message, hashlib.sha256).hexdigest()
    return hashlib.sha256(message).hexdigest()


def fold(previous: object, unchained: Iterable[Sequence[Any]],
         key: Optional[bytes] = None) -> object:
    """The link after the chained row whose hash is ``previous`` and the
    unchained rows after it (their values, oldest first)."""
    for values in unchained:
        previous = chain_hash(previous, values, key)
    return previous
