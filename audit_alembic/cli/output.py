"""Writing rows out: an aligned table, JSON or CSV.

Each writer takes the table (for its column names and types), an
iterable of row batches and a text stream, and writes as the batches
come, so that memory use does not grow with the number of rows.
"""
import codecs
import csv
import datetime
import json

from ..values import CHANGE_TIME_COLUMN as CHANGE_TIME
from ..values import DEFAULT_SEPARATOR as SEPARATOR
from ..values import DETAIL_COLUMNS
from ..values import DIRECTION_COLUMN as DIRECTION
from ..values import DURATION_COLUMN
from ..values import ERROR_COLUMN
from ..values import HOST_COLUMN
from ..values import ID_COLUMN as ID
from ..values import NEW_VERSION_COLUMN as NEW_VERSION
from ..values import OLD_VERSION_COLUMN as OLD_VERSION
from ..values import OPERATION_COLUMN as KIND
from ..values import OS_USER_COLUMN
from ..values import RUN_ID_COLUMN
from ..values import STATUS_COLUMN
from ..values import USER_VERSION_COLUMN as USER_VERSION
from .layout import TableLayout

#: Rows per aligned block of table output.
BATCH_SIZE = 1000
BASE = '<base>'
#: How much of a run id and of an error the table shows, unless asked
#: for every column in full.
RUN_ID_SHOWN = 8
ERROR_SHOWN = 60


def write_table(table, batches, out, layout=None, all_columns=False):
    """Write the rows as an aligned table: id, time, direction, kind,
    from -> to, user version, then any other columns (``layout``, a
    :class:`~.layout.TableLayout`, names them; by default as
    ``Auditor.create`` does).  Of the detail columns, only the status,
    the run (its id's start), the duration, who ran the step and where,
    and the start of the error are shown, unless ``all_columns``.

    Columns are as wide as their widest value in the first
    :data:`BATCH_SIZE` rows; later rows only ever widen them, so a long
    listing needs no more memory than a short one.
    """
    headers, cells = _table_layout(table, _arrow(out),
                                   layout or TableLayout(), all_columns)
    right = [header == ID for header in headers]
    widths = [len(header) for header in headers]
    started = False
    for batch in batches:
        lines = [[cell(row) for cell in cells] for row in batch]
        for column, values in enumerate(zip(*lines)):
            widths[column] = max(widths[column], max(map(len, values)))
        template = _line_template(widths, right)
        if not started:
            _write_header(out, headers, widths, right)
            started = True
        out.write(''.join([template.format(*line).rstrip() + '\n'
                           for line in lines]))
    if not started:
        _write_header(out, headers, widths, right)


def _line_template(widths, right):
    return '  '.join('{:%s%d}' % ('>' if align_right else '<', width)
                     for width, align_right in zip(widths, right))


def _write_header(out, headers, widths, right):
    template = _line_template(widths, right)
    out.write(template.format(*headers).rstrip() + '\n')
    out.write(template.format(*['-' * w for w in widths]).rstrip() + '\n')


def _table_layout(table, arrow, layout, all_columns=False):
    """Headers, and a function per header turning a row into its cell."""
    names = [column.name for column in table.columns]
    position = {name: i for i, name in enumerate(names)}
    headers, cells, shown = [], [], set()

    def add(header, cell, *columns):
        headers.append(header)
        cells.append(cell)
        shown.update(columns)

    def at(role):
        return position.get(layout.name(role))

    def text_of(i):
        return lambda row: _text(row[i])

    if at(ID) is not None:
        add(ID, text_of(at(ID)), at(ID))
    if at(CHANGE_TIME) is not None:
        add('time (UTC)', lambda row, i=at(CHANGE_TIME):
            _utc_to_the_second(row[i]), at(CHANGE_TIME))
    if at(DIRECTION) is not None:
        add('direction', text_of(at(DIRECTION)), at(DIRECTION))
    if at(KIND) is not None:
        add('kind', text_of(at(KIND)), at(KIND))
    if at(OLD_VERSION) is not None and at(NEW_VERSION) is not None:
        old, new = at(OLD_VERSION), at(NEW_VERSION)
        separator = layout.separator
        add('from %s to' % arrow,
            lambda row: '%s %s %s' % (_revisions(row[old], separator), arrow,
                                      _revisions(row[new], separator)),
            old, new)
    if at(USER_VERSION) is not None:
        add('user version', text_of(at(USER_VERSION)), at(USER_VERSION))
    details = STATUS_COLUMN in position and RUN_ID_COLUMN in position
    if details and not all_columns:
        _add_details(add, position.get, shown)
    for index, name in enumerate(names):
        if index not in shown:
            add(_text(name), text_of(index), index)
    return headers, cells


def _add_details(add, at, shown):
    """The cells summing up the detail columns of a table made with
    ``details=True``; the others of them are hidden."""
    def text_of(i, most=None):
        return lambda row: _text(row[i])[:most]

    add('status', text_of(at(STATUS_COLUMN)))
    add('run', text_of(at(RUN_ID_COLUMN), RUN_ID_SHOWN))
    if at(DURATION_COLUMN) is not None:
        add('took', lambda row, i=at(DURATION_COLUMN): _duration(row[i]))
    user, host = at(OS_USER_COLUMN), at(HOST_COLUMN)
    if user is not None and host is not None:
        add('by', lambda row: '@'.join(
            _text(row[i]) for i in (user, host) if row[i] is not None))
    if at(ERROR_COLUMN) is not None:
        add('error', lambda row, i=at(ERROR_COLUMN): _first_line(
            row[i], ERROR_SHOWN))
    shown.update(at(name) for name in DETAIL_COLUMNS)


def _duration(value):
    if value is None:
        return ''
    if isinstance(value, int) and value >= 10000:
        return '%.1f s' % (value / 1000)
    return '%s ms' % _text(value)


def _first_line(value, most):
    if value is None:
        return ''
    text = str(value).strip().split('\n', 1)[0]
    if len(text) > most:
        text = text[:most - 3] + '...'
    return _text(text)


def _arrow(out):
    return '\u2192' if _unicode_ok(out) else '->'


def _unicode_ok(out):
    """Whether ``out`` can take any character (e.g. its encoding is
    UTF-8), or only some (e.g. ASCII)."""
    encoding = getattr(out, 'encoding', None) or 'ascii'
    try:
        codecs.encode('\u2192\U0001f600', encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def _revisions(value, separator=SEPARATOR):
    if value is None or value == '':
        return BASE
    if value.__class__ is not str:
        return _text(value)
    return ', '.join([_text(part) for part in value.split(separator)])


def _text(value):
    if value.__class__ is str:
        return value if value.isprintable() else _escaped(value)
    if value is None:
        return ''
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    return _text(str(value))


def _escaped(text):
    """``text`` with each character a terminal would act on or not show
    (ESC, BEL, newline, tab, other control and format characters) written
    as a Python escape, e.g. ``\\x1b``: stored text cannot drive the
    reader's terminal, nor hide from it."""
    return ''.join([c if c.isprintable() else repr(c)[1:-1] for c in text])


def _as_utc(value):
    if value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc)
    return value.replace(tzinfo=datetime.timezone.utc)


def _utc_to_the_second(value):
    if isinstance(value, datetime.datetime):
        return _as_utc(value).strftime('%Y-%m-%d %H:%M:%S')
    return _text(value)


def _utc_iso(value):
    """The change time as ISO-8601 UTC, e.g. 2024-05-01T12:00:00.123456+00:00
    (stored times are naive UTC)."""
    if value.__class__ is datetime.datetime and value.tzinfo is None:
        return value.isoformat(timespec='microseconds') + '+00:00'
    if isinstance(value, datetime.datetime):
        return _as_utc(value).isoformat(timespec='microseconds')
    return _plain(value)


def _plain(value):
    """A value fit for JSON and CSV: times as ISO-8601, bytes as hex."""
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    return value


def _converters(table, layout):
    """A function per column, or None where the value can go out as is."""
    from sqlalchemy import types
    converters = []
    change_time = (layout or TableLayout()).name(CHANGE_TIME)
    for column in table.columns:
        if column.name == change_time:
            converters.append(_utc_iso)
        elif isinstance(column.type, (types.String, types.Integer,
                                      types.Boolean, types.Float)):
            converters.append(None)
        else:
            converters.append(_plain)
    return converters


def _converted(table, batches, layout=None):
    """The batches of rows as lists of values fit for JSON and CSV."""
    converters = [(i, convert) for i, convert in enumerate(
        _converters(table, layout)) if convert is not None]
    for batch in batches:
        rows = [list(row) for row in batch]
        for i, convert in converters:
            for row in rows:
                value = row[i]
                if value is not None:
                    row[i] = convert(value)
        yield rows


def write_json(table, batches, out, layout=None):
    """Write the rows as a JSON array of objects, one a line, keyed by
    column name; times in ISO-8601."""
    names = [column.name for column in table.columns]
    encode = json.JSONEncoder(ensure_ascii=not _unicode_ok(out),
                              default=str).encode
    out.write('[')
    separator = '\n'
    for rows in _converted(table, batches, layout):
        out.write(separator)
        out.write(',\n'.join([encode(dict(zip(names, row)))
                              for row in rows]))
        separator = ',\n'
    out.write('\n]\n' if separator != '\n' else ']\n')


def write_csv(table, batches, out, layout=None):
    """Write the rows as CSV under a header of column names; times in
    ISO-8601, NULL as an empty field."""
    writer = csv.writer(out, lineterminator='\n')
    writer.writerow([column.name for column in table.columns])
    for rows in _converted(table, batches, layout):
        writer.writerows(rows)


def json_value(value):
    """``value`` fit for JSON: times as ISO-8601 (naive ones are UTC),
    bytes as hex."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return _utc_iso(value)
    return _plain(value)


#: A value as a cell of an aligned table, shown safely on a terminal.
escaped = _text
#: A change time as a cell: UTC, to the second.
utc_to_the_second = _utc_to_the_second

WRITERS = {'table': write_table, 'json': write_json, 'csv': write_csv}
FORMATS = tuple(WRITERS)
