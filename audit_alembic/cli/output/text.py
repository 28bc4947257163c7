"""Values as text: a cell of a table (safe on a terminal), a value fit
for JSON and CSV, times in UTC, revisions, and an error on one line."""
import codecs
import datetime

from ... import values
from ...values import DEFAULT_SEPARATOR as SEPARATOR

#: What stands for "no revision".
BASE = values.BASE


def one_line(value, most=None, first=False):
    """``value`` (an error, a warning or any text) on one line: every
    line of it, each run of white space one space; with ``first``, its
    first line only.  With ``most``, cut to that many characters (the
    last three ``...``).  None is empty."""
    if value is None:
        return ''
    if first:
        lines = str(value).strip().splitlines()
        text = lines[0] if lines else ''
    else:
        text = ' '.join(str(value).split())
    if most is not None and len(text) > most:
        text = text[:most - 3] + '...'
    return text


def error_line(error):
    """``error`` as one line: its class and its message's first line."""
    message = one_line(error, first=True)
    return type(error).__name__ + (': ' + message if message else '')


def revisions(ids):
    """Revision ids as one text, sorted; :data:`BASE` for none."""
    return ', '.join(sorted(ids)) if ids else BASE


def stored_revisions(value, separator=SEPARATOR):
    """A stored revision column (ids joined by ``separator``) as a cell."""
    if value is None or value == '':
        return BASE
    if value.__class__ is not str:
        return escaped(value)
    return ', '.join([escaped(part) for part in value.split(separator)])


def escaped(value):
    """``value`` as a cell of an aligned table, shown safely on a
    terminal: None as empty, bytes as hex, text escaped (see
    :func:`escape`)."""
    if value.__class__ is str:
        return value if value.isprintable() else escape(value)
    if value is None:
        return ''
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    return escaped(str(value))


def escape(text):
    """``text`` with each character a terminal would act on or not show
    (ESC, BEL, newline, tab, other control and format characters) written
    as a Python escape, e.g. ``\\x1b``: stored text cannot drive the
    reader's terminal, nor hide from it."""
    return ''.join([c if c.isprintable() else repr(c)[1:-1] for c in text])


def duration(value):
    """Milliseconds as a cell: ``120 ms``, or seconds from 10 s up."""
    if value is None:
        return ''
    if isinstance(value, int) and value >= 10000:
        return '%.1f s' % (value / 1000)
    return '%s ms' % escaped(value)


def arrow(out):
    """An arrow ``out`` can show."""
    return '\u2192' if unicode_ok(out) else '->'


def unicode_ok(out):
    """Whether ``out`` can take any character (e.g. its encoding is
    UTF-8), or only some (e.g. ASCII)."""
    encoding = getattr(out, 'encoding', None) or 'ascii'
    try:
        codecs.encode('\u2192\U0001f600', encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def _as_utc(value):
    if value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc)
    return value.replace(tzinfo=datetime.timezone.utc)


def utc_to_the_second(value):
    """A change time as a cell: UTC, to the second (stored times are
    naive UTC); anything else as :func:`escaped` shows it."""
    if isinstance(value, datetime.datetime):
        return _as_utc(value).strftime('%Y-%m-%d %H:%M:%S')
    return escaped(value)


def utc_iso(value):
    """The change time as ISO-8601 UTC, e.g. 2024-05-01T12:00:00.123456+00:00
    (stored times are naive UTC)."""
    if value.__class__ is datetime.datetime and value.tzinfo is None:
        return value.isoformat(timespec='microseconds') + '+00:00'
    if isinstance(value, datetime.datetime):
        return _as_utc(value).isoformat(timespec='microseconds')
    return plain(value)


def plain(value):
    """A value fit for JSON and CSV: times as ISO-8601, bytes as hex."""
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    return value


def json_value(value):
    """``value`` fit for JSON: times as ISO-8601 (naive ones are UTC),
    bytes as hex."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return utc_iso(value)
    return plain(value)
