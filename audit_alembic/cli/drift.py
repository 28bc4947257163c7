"""``audit-alembic drift``: has the schema changed outside the migrations?

Compares the live schema with the last snapshot the history recorded
(``Auditor.create(details=True)`` records one at the end of every online
run, see :mod:`audit_alembic.drift`) and lists every table, column,
index and constraint added, removed or changed since; or, with
``--since``, lists the ``'drift'`` rows recorded since a run or a time,
each with its changes.  Reads only.
"""
import argparse
import re
import sys

from ..exc import CheckFailed
from ..exc import CommandError
from ..values import CHANGE_TIME_COLUMN
from ..values import DRIFT
from ..values import ID_COLUMN
from ..values import MESSAGE_COLUMN
from ..values import RUN_ID_COLUMN
from ..values import SCHEMA_HASH_COLUMN
from ..values import STATUS_COLUMN
from . import database
from . import options
from . import project
from .output import schema as report
from .output.text import utc_to_the_second
from .schema_state import compare
from .schema_state import no_column_reason
from .schema_state import recorded_change
from .schema_state import records_snapshots
from .schema_state import watch_of

EPILOG = '''\
examples:
  audit-alembic drift                        # the project of ./alembic.ini
  audit-alembic drift --format json
  audit-alembic drift --since 1b63fcb0       # drift rows since that run
  audit-alembic drift --since 2026-12-01     # ... since that day (UTC)

Exit status 0 when the schema matches the last snapshot (with --since:
no drift row was recorded since), 1 when it does not (drift rows were
recorded), 2 when it cannot tell: no snapshot yet (run alembic upgrade
with an Auditor made by Auditor.create(details=True), as the shipped
env.py does), steps recorded after the last snapshot without one
(offline scripts), an unreachable database or a missing table.
'''
#: A time, rather than a run id: it starts with a date (a run id's
#: first group has 8 digits).
_TIME = re.compile(r'\s*\d{4}-\d{2}-\d{2}')


def run_or_time(text):
    """An argparse type: ``('time', naive UTC datetime)`` for an ISO-8601
    date or time (see :func:`.options.timestamp`), else ``('run',
    prefix)`` for a run id or its start (see :func:`.options.run_id`)."""
    if _TIME.match(text):
        return 'time', options.timestamp(text)
    try:
        return 'run', options.run_id(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            'expected a run id or its start, or an ISO-8601 date or time '
            '(e.g. 2024-05-01T12:30:00Z), not %r' % (text,)) from None


def add_parser(commands):
    """Add the ``drift`` command to the ``commands`` subparsers."""
    parser = commands.add_parser(
        'drift', help='compare the schema with the last recorded snapshot',
        description='Compare the live schema with the last snapshot the '
                    'history recorded, and list what was added, removed '
                    'or changed outside the migrations (tables, columns, '
                    'indexes, constraints).  Reads only.',
        epilog=EPILOG)
    options.add_database_options(parser)
    group = parser.add_argument_group('recorded drift')
    group.add_argument('--since', metavar='RUN_OR_TIME', type=run_or_time,
                       help="list the 'drift' rows recorded since a run "
                            '(its id or start, as history shows it) or an '
                            'ISO-8601 time (UTC unless it carries an '
                            'offset), each with its changes, instead')
    group = parser.add_argument_group('output')
    group.add_argument('--format', choices=('text', 'json'),
                       default='text',
                       help='one line per change (default), or JSON')
    return parser


def run(args):
    """Run ``audit-alembic drift`` with parsed ``args``."""
    layout = options.table_layout(args)
    url = options.database_url(args)
    if args.since is None:
        show_drift(url, layout, args.format, sys.stdout)
    else:
        show_recorded(url, layout, args.since, args.format, sys.stdout)


def _history(connection, layout, url):
    """The history table, with the columns snapshots need."""
    table = project.reflect_table(connection, layout.table_name,
                                  layout.schema, url)
    for role in (ID_COLUMN, CHANGE_TIME_COLUMN):
        layout.column(table, role, 'drift')
    if not records_snapshots(table):
        raise CommandError('%s: no schema snapshots to compare with'
                           % no_column_reason(table))
    return table


def show_drift(url, layout, output_format='text', out=None):
    """Compare the live schema of ``url`` with the last snapshot of its
    history table (``layout`` names it) and write the changes to ``out``.

    :raise CheckFailed: if the schema differs (drift).
    :raise CommandError: if it cannot tell.
    """
    import json
    out = out or sys.stdout
    with database.connect(url) as connection:
        state = compare(connection, _history(connection, layout, url),
                        layout)
    if state.baseline is None:
        raise CommandError(state.reason)
    if not state.compared:
        raise CommandError('cannot compare with %s: %s' % (
            report.baseline_text(state.baseline), state.reason))
    if output_format == 'json':
        out.write(json.dumps(report.live_json(state), indent=1,
                             default=str) + '\n')
    else:
        report.write_live_text(state, out)
    count = '%d change%s' % (len(state.changes),
                             '' if len(state.changes) == 1 else 's')
    if state.drift is None:
        raise CommandError(
            'cannot tell drift: the schema differs from the last snapshot '
            '(%s), but steps were recorded after it without one'
            % count)
    if state.drift:
        raise CheckFailed('schema drift: %s since %s' % (
            count, report.baseline_text(state.baseline)))


def show_recorded(url, layout, since, output_format='text', out=None):
    """Write the ``'drift'`` rows of the history of ``url`` recorded
    since ``since`` (see :func:`run_or_time`), each with its changes:
    from the snapshot named by the row with a hash before it to its own.

    :raise CheckFailed: if there is at least one.
    :raise CommandError: if the history cannot be read, or names no such
        run.
    """
    import json
    out = out or sys.stdout
    with database.connect(url) as connection:
        table = _history(connection, layout, url)
        condition, since_text = _since(connection, table, layout, since)
        rows = drift_rows(connection, table, layout, condition)
    if output_format == 'json':
        out.write(json.dumps({'since': since_text, 'drift': bool(rows),
                              'rows': report.recorded_json(rows)},
                             indent=1, default=str) + '\n')
    else:
        report.write_recorded_text(rows, since_text, out)
    if rows:
        raise CheckFailed('%d drift row%s recorded since %s' % (
            len(rows), '' if len(rows) == 1 else 's', since_text))


def _since(connection, table, layout, since):
    """A condition on the rows of ``table`` at or after ``since``, and
    ``since`` in words."""
    from sqlalchemy import func
    from sqlalchemy import select
    kind, value = since
    if kind == 'time':
        return (table.c[layout.name(CHANGE_TIME_COLUMN)] >= value,
                '%s UTC' % utc_to_the_second(value))
    column, row_id = table.c[RUN_ID_COLUMN], table.c[layout.name(ID_COLUMN)]
    after = value[:-1] + chr(ord(value[-1]) + 1)
    runs = connection.execute(
        select(column).where(column >= value, column < after)
        .group_by(column).limit(2)).scalars().all()
    if not runs:
        raise CommandError('no run %r in the history of %s'
                           % (value, table.fullname))
    if len(runs) > 1:
        raise CommandError('run %r is ambiguous in the history of %s: it '
                           'starts %s, and more' % (value, table.fullname,
                                                    ', '.join(runs)))
    first = connection.scalar(select(func.min(row_id)).where(
        column == runs[0]))
    return row_id >= first, 'run %s (row %s)' % (runs[0], first)


def drift_rows(connection, table, layout, condition):
    """The ``'drift'`` rows of ``table`` matching ``condition``, oldest
    first, as dicts: ``row_id``, ``run_id``, ``changed_at``,
    ``schema_hash``, ``message``, ``before`` (the row with a hash before
    it: ``row_id``, ``run_id``, ``changed_at``, ``schema_hash``; or None)
    and ``changes`` (a list of :class:`~audit_alembic.schemadiff.Change`,
    or a text saying why there is none)."""
    from sqlalchemy import select
    c = table.c
    row_id, changed_at = c[layout.name(ID_COLUMN)], \
        c[layout.name(CHANGE_TIME_COLUMN)]
    named = [row_id.label('row_id'), c[RUN_ID_COLUMN].label('run_id'),
             changed_at.label('changed_at'),
             c[SCHEMA_HASH_COLUMN].label('schema_hash')]
    found = connection.execute(
        select(*named, c[MESSAGE_COLUMN].label('message'))
        .where(c[STATUS_COLUMN] == DRIFT, condition)
        .order_by(row_id)).mappings().all()
    watch = watch_of(table, layout)
    rows = []
    for row in found:
        before = connection.execute(
            select(*named).where(row_id < row['row_id'],
                                 c[SCHEMA_HASH_COLUMN].isnot(None))
            .order_by(row_id.desc()).limit(1)).mappings().first()
        before = dict(before) if before is not None else None
        changes = recorded_change(watch, connection, row['schema_hash'],
                                  before and before['schema_hash'])
        rows.append(dict(row, before=before, changes=changes))
    return rows
