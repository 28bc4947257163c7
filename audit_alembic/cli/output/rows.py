"""The rows of a history table written out: an aligned table, JSON or
CSV.

Each writer takes the table (for its column names and types), an
iterable of row batches and a text stream, and writes as the batches
come, so that memory use does not grow with the number of rows.
"""
import csv
import json

from ...values import CHANGE_TIME_COLUMN as CHANGE_TIME
from ...values import DETAIL_COLUMNS
from ...values import DIRECTION_COLUMN as DIRECTION
from ...values import DURATION_COLUMN
from ...values import DRIFT
from ...values import ERROR_COLUMN
from ...values import HOST_COLUMN
from ...values import ID_COLUMN as ID
from ...values import MESSAGE_COLUMN
from ...values import NEW_VERSION_COLUMN as NEW_VERSION
from ...values import OLD_VERSION_COLUMN as OLD_VERSION
from ...values import OPERATION_COLUMN as KIND
from ...values import OS_USER_COLUMN
from ...values import RUN_ID_COLUMN
from ...values import STATUS_COLUMN
from ...values import USER_VERSION_COLUMN as USER_VERSION
from ..layout import TableLayout
from . import table as aligned
from .text import ARROW
from .text import duration
from .text import error_cause
from .text import escaped
from .text import one_line
from .text import plain
from .text import short_run_id
from .text import stored_revisions
from .text import unicode_ok
from .text import utc_iso
from .text import utc_to_the_second

#: Rows per aligned block of table output.
BATCH_SIZE = 1000
#: The headers of the free-text columns cut to fit a terminal.
SHRINK = ('user version', 'error')


def write_table(table, batches, out, layout=None, all_columns=False,
                wide=False):
    """Write the rows as an aligned table: id, time, direction, kind,
    from -> to, user version, then any other columns (``layout``, a
    :class:`~..layout.TableLayout`, names them; by default as
    ``Auditor.create`` does).  Of the detail columns, only the status,
    the run (its id's start), the duration, who ran the step and where,
    and the error's cause (:func:`.text.error_cause`, its first line) are
    shown, unless ``all_columns``.

    Columns are as wide as their widest value in the first
    :data:`BATCH_SIZE` rows; later rows only ever widen them.  On a
    terminal, unless ``wide``, the :data:`SHRINK` columns are cut to fit.
    """
    layout = layout or TableLayout()
    headers, cells = _table_layout(table, ARROW, layout, all_columns)
    aligned.write_table(
        out, headers,
        ([[cell(row) for cell in cells] for row in batch]
         for batch in batches),
        right=[header == ID for header in headers],
        shrink=SHRINK + (layout.name(USER_VERSION), ERROR_COLUMN),
        wide=wide)


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
        return lambda row: escaped(row[i])

    if at(ID) is not None:
        add(ID, text_of(at(ID)), at(ID))
    if at(CHANGE_TIME) is not None:
        add('time (UTC)', lambda row, i=at(CHANGE_TIME):
            utc_to_the_second(row[i]), at(CHANGE_TIME))
    if at(DIRECTION) is not None:
        add('direction', text_of(at(DIRECTION)), at(DIRECTION))
    if at(KIND) is not None:
        add('kind', text_of(at(KIND)), at(KIND))
    if at(OLD_VERSION) is not None and at(NEW_VERSION) is not None:
        old, new = at(OLD_VERSION), at(NEW_VERSION)
        separator = layout.separator
        add('from %s to' % arrow,
            lambda row: '%s %s %s' % (
                stored_revisions(row[old], separator), arrow,
                stored_revisions(row[new], separator)),
            old, new)
    if at(USER_VERSION) is not None:
        add('user version', text_of(at(USER_VERSION)), at(USER_VERSION))
    details = STATUS_COLUMN in position and RUN_ID_COLUMN in position
    if details and not all_columns:
        _add_details(add, position.get, shown)
    for index, name in enumerate(names):
        if index not in shown:
            add(escaped(name), text_of(index), index)
    return headers, cells


def _add_details(add, at, shown):
    """The cells summing up the detail columns of a table made with
    ``details=True``; the others of them are hidden."""
    def text_of(i):
        return lambda row: escaped(row[i])

    add('status', text_of(at(STATUS_COLUMN)))
    add('run', lambda row, i=at(RUN_ID_COLUMN): short_run_id(row[i]))
    if at(DURATION_COLUMN) is not None:
        add('took', lambda row, i=at(DURATION_COLUMN): duration(row[i]))
    user, host = at(OS_USER_COLUMN), at(HOST_COLUMN)
    if user is not None and host is not None:
        add('by', lambda row: '@'.join(
            escaped(row[i]) for i in (user, host) if row[i] is not None))
    if at(ERROR_COLUMN) is not None:
        error, status = at(ERROR_COLUMN), at(STATUS_COLUMN)
        message = at(MESSAGE_COLUMN)

        def error_or_change(row):
            # A drift row's change, in the column a failure's error has.
            if row[status] == DRIFT and message is not None:
                return escaped(one_line(row[message], first=True))
            return escaped(one_line(error_cause(row[error]), first=True))
        add('error', error_or_change)
    shown.update(at(name) for name in DETAIL_COLUMNS)


def _converters(table, layout, revision_lists=False):
    """A function per column, or None where the value can go out as is.
    With ``revision_lists``, the two revision columns give lists (see
    :func:`_revision_list`)."""
    from sqlalchemy import types
    layout = layout or TableLayout()
    change_time = layout.name(CHANGE_TIME)
    revisions = {layout.name(OLD_VERSION), layout.name(NEW_VERSION)} \
        if revision_lists else ()
    converters = []
    for column in table.columns:
        if column.name in revisions:
            converters.append(_revision_list(layout))
        elif column.name == change_time:
            converters.append(utc_iso)
        elif isinstance(column.type, (types.String, types.Integer,
                                      types.Boolean, types.Float)):
            converters.append(None)
        else:
            converters.append(plain)
    return converters


def _revision_list(layout):
    """A converter of a stored revision column to what JSON gives: the
    list of its ids in their stored order (:meth:`.TableLayout.split`;
    ``[]`` for the base, an empty value or NULL), or a value that is not
    text as :func:`.text.plain` gives it."""
    def convert(value):
        if value is None or value.__class__ is str:
            return layout.split(value)
        return plain(value)
    convert.takes_null = True
    return convert


def _converted(table, batches, layout=None, revision_lists=False):
    """The batches of rows as lists of values fit for JSON and CSV (for
    JSON, ``revision_lists``: revisions as lists)."""
    converters = [(i, convert) for i, convert in enumerate(
        _converters(table, layout, revision_lists)) if convert is not None]
    nulls = {i for i, convert in converters
             if getattr(convert, 'takes_null', False)}
    for batch in batches:
        rows = [list(row) for row in batch]
        for i, convert in converters:
            for row in rows:
                value = row[i]
                if value is not None or i in nulls:
                    row[i] = convert(value)
        yield rows


def write_json(table, batches, out, layout=None):
    """Write the rows as a JSON array of objects, one a line, keyed by
    column name; times in ISO-8601, the revision columns as lists of
    ids."""
    names = [column.name for column in table.columns]
    encode = json.JSONEncoder(ensure_ascii=not unicode_ok(out),
                              default=str).encode
    out.write('[')
    separator = '\n'
    for rows in _converted(table, batches, layout, revision_lists=True):
        out.write(separator)
        out.write(',\n'.join([encode(dict(zip(names, row)))
                              for row in rows]))
        separator = ',\n'
    out.write('\n]\n' if separator != '\n' else ']\n')


def write_jsonl(table, batches, out, layout=None):
    """Write each row as the JSON line its event has (see
    :mod:`audit_alembic.events`): ``timestamp`` (the row's change time),
    ``level``, ``logger``, ``message``, ``table`` and ``audit`` (the values
    by role, as stored, times in ISO 8601 UTC), so that a log pipeline
    can take from the table what it missed of the events."""
    from ... import events
    layout = layout or TableLayout()
    roles = {name: role for role, name in layout.names.items()}
    id_name = layout.name(ID)
    names = [column.name for column in table.columns]
    encode = json.JSONEncoder(ensure_ascii=not unicode_ok(out),
                              default=str).encode
    for batch in batches:
        lines = []
        for row in batch:
            audit = events.audit_values(
                {name: value for name, value in zip(names, row)
                 if name != id_name}, roles)
            lines.append(encode(events.document(
                audit, table.name, audit.get(CHANGE_TIME))) + '\n')
        out.write(''.join(lines))


def write_csv(table, batches, out, layout=None):
    """Write the rows as CSV under a header of column names; times in
    ISO-8601, NULL as an empty field."""
    writer = csv.writer(out, lineterminator='\n')
    writer.writerow([column.name for column in table.columns])
    for rows in _converted(table, batches, layout):
        writer.writerows(rows)


WRITERS = {'table': write_table, 'json': write_json, 'jsonl': write_jsonl,
           'csv': write_csv}
FORMATS = tuple(WRITERS)
