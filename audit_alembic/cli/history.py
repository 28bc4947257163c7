"""``audit-alembic history``: print the rows of a history table.

Filtering, ordering and limiting happen in the database; rows are
streamed from it and written out as they come, so that memory use does
not grow with the size of the table.
"""
import argparse
import functools
import sys

from ..exc import CommandError
from ..stored import as_stored
from ..values import CHANGE_TIME_COLUMN
from ..values import DEFAULT_SEPARATOR
from ..values import ID_COLUMN
from ..values import NEW_VERSION_COLUMN
from ..values import OLD_VERSION_COLUMN
from ..values import RUN_ID_COLUMN
from . import database
from . import options
from . import project
from .layout import TableLayout
from .output import rows as row_output

#: Rows fetched from the database at a time.
BATCH_SIZE = row_output.BATCH_SIZE

EPILOG = '''\
examples:
  audit-alembic history                      # sqlalchemy.url of ./alembic.ini
  audit-alembic history --last 20
  audit-alembic history --revision ae10 --format json   # a unique prefix
  audit-alembic history --run 3f2a1b9c --all-columns
  audit-alembic history --url postgresql+psycopg://me@db/app --format csv

times are UTC; --since takes a date or an ISO-8601 time (UTC unless it
carries an offset).  A revision matches a row when it is the row's source
or destination revision, or one of them after a merge or a split; like
Alembic, --revision takes the start of an id when exactly one revision of
the history or of the script directory starts so.  On a terminal, long
messages and errors are cut to fit; --wide, or a pipe, prints them
whole.
'''


def add_parser(commands):
    """Add the ``history`` command to the ``commands`` subparsers."""
    parser = commands.add_parser(
        'history', help='print the audit trail of a database',
        description='Print the rows of an Audit-Alembic history table, '
                    'oldest first.',
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    options.add_database_options(parser)
    filters = parser.add_argument_group('filters')
    filters.add_argument('--revision', metavar='REV',
                         help='only steps from or to revision REV (or the '
                              'one revision whose id starts with REV)')
    options.add_script_location(
        filters, 'the script directory whose revisions --revision may '
                 'abbreviate')
    options.add_row_bounds(filters)
    filters.add_argument('--run', metavar='RUN_ID', dest='run_id',
                         type=options.run_id,
                         help='only the steps of one Alembic run: a run_id, '
                              'or its start as the table shows it')
    group = parser.add_argument_group('output')
    group.add_argument('--format', choices=row_output.FORMATS,
                       default='table',
                       help='an aligned table (default), or every column '
                            'as JSON (one array), JSON lines (jsonl: an '
                            'object a line) or CSV, with ISO-8601 times')
    group.add_argument('--wide', action='store_true',
                       help='in the table, never cut a cell to fit the '
                            'terminal')
    group.add_argument('--all-columns', action='store_true',
                       help='in the table, every column in full (by '
                            'default the details are summed up)')
    return parser


def run(args):
    """Run ``audit-alembic history`` with parsed ``args``."""
    layout = options.table_layout(args)
    show_history(
        options.database_url(args), layout.table_name, schema=layout.schema,
        revision=args.revision, since=args.since, last=args.last,
        run_id=args.run_id, output_format=args.format, out=sys.stdout,
        layout=layout, all_columns=args.all_columns, wide=args.wide,
        scripts=lambda: _scripts_if_any(args))


def _scripts_if_any(args):
    """The project's script directory, or None where there is none to
    read (history needs none)."""
    try:
        return project.optional_script_directory(args)
    except CommandError:
        return None


def show_history(url, table_name, schema=None, revision=None, since=None,
                 last=None, output_format='table', out=None, layout=None,
                 run_id=None, all_columns=False, wide=False, scripts=None):
    """Write the rows of history table ``table_name`` of ``url`` to ``out``.

    :param layout: a :class:`~.layout.TableLayout` naming the table's
        columns; by default those of ``Auditor.create``.
    :param revision: only rows from or to this revision, or the one
        revision whose id starts so (see :func:`resolve_revision`).
    :param since: only rows changed at or after this naive UTC datetime.
    :param last: only the ``last`` most recent rows (still oldest first).
    :param run_id: only rows of the run whose ``run_id`` starts so.
    :param output_format: ``'table'``, ``'json'`` or ``'csv'``.
    :param all_columns: in a table, every column in full.
    :param wide: in a table, no cell cut to fit the terminal.
    :param scripts: a function returning the script directory, or None.
    :raise CommandError: if the database or the table cannot be read.
    """
    write = row_output.WRITERS[output_format]
    if output_format == 'table':
        write = functools.partial(write, all_columns=all_columns, wide=wide)
    out = out or sys.stdout
    layout = layout or TableLayout()
    with database.connect(url) as connection:
        table = project.reflect_table(connection, table_name, schema,
                                      url)
        if revision is not None:
            revision = resolve_revision(connection, table, layout,
                                        revision, scripts)
        query = select_history(table, revision=revision, since=since,
                               last=last, dialect=connection.dialect,
                               layout=layout, run_id=run_id)
        write(table, stream_rows(connection, query, newest_first=bool(last)),
              out, layout)


def recorded_revisions(connection, table, layout):
    """The revision ids the history records (as a step's source or
    destination, merges and splits split)."""
    from sqlalchemy import select
    from sqlalchemy import union
    columns = [layout.column(table, role, '--revision')
               for role in (OLD_VERSION_COLUMN, NEW_VERSION_COLUMN)]
    query = union(*[select(as_stored(column, connection.dialect))
                    for column in columns])
    found = set()
    for (value,) in connection.execute(query):
        if isinstance(value, str):
            found.update(layout.split(value))
    return found


def resolve_revision(connection, table, layout, revision, scripts=None):
    """The revision ``revision`` names: itself if the history records it,
    else, as Alembic does, the one revision (of the history, and of the
    script directory ``scripts()`` returns unless None) it is or whose id
    it starts.

    :raise CommandError: if none matches (exit status 2: the command
        could not show what was asked), or several do (naming them).
    """
    known = recorded_revisions(connection, table, layout)
    if revision in known:
        return revision
    directory = scripts() if scripts is not None else None
    if directory is not None:
        project.read_scripts(directory)
        known.update(script.revision
                     for script in directory.walk_revisions())
    if revision in known:
        return revision
    matches = sorted(known_id for known_id in known
                     if known_id.startswith(revision))
    if len(matches) == 1:
        return matches[0]
    where = 'the history of %s' % table.fullname
    if directory is not None:
        where += ' or the script directory'
    if not matches:
        raise CommandError('no revision %r in %s' % (revision, where))
    raise CommandError('revision %r is ambiguous in %s: it starts %s'
                       % (revision, where, ', '.join(matches)))


def select_history(table, revision=None, since=None, last=None,
                   dialect=None, layout=None, run_id=None):
    """The SELECT of the rows to show, oldest first.

    With ``last``, newest first instead, limited to ``last`` rows: the
    database finds them from the end of the primary key index, and the
    caller reverses them.  ``dialect`` is that of the database it is for.
    """
    from sqlalchemy import or_
    from sqlalchemy import select
    layout = layout or TableLayout()
    query = select(*[as_stored(column, dialect) for column in table.columns])
    if revision is not None:
        query = query.where(or_(*[
            revision_matches(layout.column(table, role, '--revision'),
                             revision, layout.separator)
            for role in (OLD_VERSION_COLUMN, NEW_VERSION_COLUMN)]))
    if since is not None:
        changed_at = layout.column(table, CHANGE_TIME_COLUMN, '--since')
        query = query.where(changed_at >= since)
    if run_id is not None:
        if RUN_ID_COLUMN not in table.c:
            raise CommandError(
                '--run needs column %s, which table %s lacks; the table of '
                'Auditor.create(details=True) has it'
                % (RUN_ID_COLUMN, table.fullname))
        query = query.where(*starts_with(table.c[RUN_ID_COLUMN], run_id))
    id_name = layout.name(ID_COLUMN)
    order = ([table.c[id_name]] if id_name in table.c
             else list(table.primary_key))
    if not order:
        raise CommandError(
            'table %s has no id column to order its rows by; is it an '
            'Audit-Alembic history table?' % table.fullname)
    if last:
        return query.order_by(*[c.desc() for c in order]).limit(last)
    return query.order_by(*order)


def starts_with(column, prefix):
    """Conditions: ``column`` starts with ``prefix``, as a range of the
    column's index (``LIKE`` would miss it on some databases)."""
    if not prefix:
        return [column.isnot(None)]
    after = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return [column >= prefix, column < after]


def revision_matches(column, revision, separator=DEFAULT_SEPARATOR):
    """A condition: ``revision`` is the value of ``column`` or one of its
    ``separator``-joined parts (a step from or to several heads)."""
    from sqlalchemy import or_
    return or_(column == revision,
               column.startswith(revision + separator, autoescape=True),
               column.endswith(separator + revision, autoescape=True),
               column.contains(separator + revision + separator,
                               autoescape=True))


def stream_rows(connection, query, newest_first=False):
    """The rows of ``query``, oldest first, in lists of up to
    :data:`BATCH_SIZE` rows.

    Streamed from the database, unless the query returns the newest rows
    first (``--last``): those are few, fetched at once and reversed.
    """
    if newest_first:
        rows = connection.execute(query).all()
        rows.reverse()
        return [rows[start:start + BATCH_SIZE]
                for start in range(0, len(rows), BATCH_SIZE)]
    return connection.execution_options(
        stream_results=True, yield_per=BATCH_SIZE).execute(query).partitions()
