"""Values as text: a cell of a table (safe on a terminal), a value fit
for JSON and CSV, times in UTC, revisions, and an error on one line."""
import codecs
import datetime
import re

from ... import values
from ...values import DEFAULT_SEPARATOR as SEPARATOR

#: What stands for "no revision".
BASE = values.BASE
#: The arrow of a step, ``from -> to``, in every command: Alembic's own
#: (its log and ``alembic history`` print it), and every terminal shows it.
ARROW = '->'
#: How many characters of a run id a table shows, in every command (JSON
#: and CSV give it whole); ``history --run`` takes that start.
RUN_ID_SHOWN = 8


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


def short_run_id(value):
    """A run id as a table shows it: its first :data:`RUN_ID_SHOWN`
    characters, escaped."""
    return escaped(value)[:RUN_ID_SHOWN]


# A stored error (see ``errors.describe_failure``): ``module.Class: ``,
# then for a driver's error ``(driver.Class) `` and the driver's message.
_ERROR_CLASS = re.compile(r'(?:[A-Za-z_][\w]*\.)*([A-Za-z_]\w*): ')
_DRIVER_CLASS = re.compile(r'\((?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*\) ')


def error_cause(text):
    """A stored error as a table shows it: the cause, not the module path
    of its exception.  ``sqlalchemy.exc.OperationalError:
    (sqlite3.OperationalError) no such column: x`` is ``no such column:
    x`` (the driver's own message); ``alembic.util.exc.CommandError:
    boom`` is ``CommandError: boom``.  Other text is left as it is."""
    if text is None or text.__class__ is not str:
        return text
    found = _ERROR_CLASS.match(text)
    if found is None:
        return text
    rest = text[found.end():]
    driver = _DRIVER_CLASS.match(rest)
    if driver is not None and rest[driver.end():].strip():
        return rest[driver.end():]
    return '%s: %s' % (found.group(1), rest)


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
