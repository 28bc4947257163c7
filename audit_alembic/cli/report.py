"""``audit-alembic report``: one self-contained HTML page of the history.

Reads (never writes) the history table, the version table and, where
given, the scripts; groups the rows into runs (:mod:`.runs`); runs the
checks of ``verify`` in this process and takes the chain's digest
(:mod:`.verdict`); :mod:`.output.html` writes the page.  The newest
:data:`ROW_LIMIT` rows at most, unless ``--last`` says how many.
"""
import argparse
import datetime
import io
import os
import sys
import types

from .. import values
from ..exc import CommandError
from ..stored import as_stored
from ..values import CHANGE_TIME_COLUMN
from ..values import ID_COLUMN
from ..values import NEW_VERSION_COLUMN
from . import database
from . import options
from . import project
from .output import html
from .runs import group_runs
from .runs import revision_ranks
from .verdict import run_checks
from .verdict import take_digest

DEFAULT_OUTPUT = 'audit-report.html'
#: Without --last, the page shows at most this many rows, the newest.
ROW_LIMIT = 50000
#: Without --verify or --no-verify, the checks of verify run and the
#: digest is taken (both read every row) only on a table of at most this
#: many rows.
VERIFY_LIMIT = 50000

EPILOG = '''\
examples:
  audit-alembic report                       # ./audit-report.html
  audit-alembic report -o /tmp/trail.html --last 500
  audit-alembic report --since 2024-05-01 --title "billing, prod"
  audit-alembic report --url postgresql://me@db/app -o -

The page needs nothing but a browser: its style, its timeline (SVG)
and its one small script are inline, and it requests nothing from any
network, so it opens from an e-mail attachment or an air-gapped
machine, and reads in full with scripts disabled.  It shows the
database (password masked), the current heads, the verdict of verify
and the chain's digest; a timeline of every run; and the runs, newest
first, each with its steps.  Without --since or --last it shows the
newest 50000 rows at most, and says so.  The checks of verify and the
digest read the whole table: by default they are made on a table of at
most 50000 rows (--verify always, --no-verify never).  report only
reads; it exits 0 or 2, whatever verify finds.
'''


def add_parser(commands):
    """Add the ``report`` command to the ``commands`` subparsers."""
    parser = commands.add_parser(
        'report', help='write the audit trail as one HTML page',
        description='Write one self-contained HTML page of the history: '
                    'a summary, a timeline of the runs and every run '
                    'with its steps.',
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    options.add_project_options(options.add_database_options(parser))
    bounds = parser.add_argument_group('which rows')
    options.add_row_bounds(bounds, 'rows',
                           ' (default: at most %d)' % ROW_LIMIT)
    group = parser.add_argument_group('output')
    group.add_argument('-o', '--output', metavar='FILE',
                       default=DEFAULT_OUTPUT,
                       help='the page to write, - for standard output '
                            '(default: %(default)s)')
    group.add_argument('--title', metavar='TEXT',
                       help="the page's title (default: Audit trail of "
                            'TABLE)')
    verify = group.add_mutually_exclusive_group()
    verify.add_argument('--verify', action='store_true', default=None,
                        help="run verify's checks and take the digest "
                             "whatever the table's size")
    verify.add_argument('--no-verify', action='store_false',
                        dest='verify',
                        help="leave verify's checks and the digest out")
    return parser


def run(args):
    """Run ``audit-alembic report`` with parsed ``args``."""
    check_output(args.output)
    layout = options.table_layout(args)
    url = options.database_url(args)
    scripts = project.optional_script_directory(args)
    report = read_report(url, layout, scripts, args.version_table,
                         since=args.since, last=args.last,
                         verify=args.verify)
    report.title = args.title
    page = io.StringIO()
    html.write_page(report, page)
    write_output(args.output, page.getvalue())
    if args.output != '-':
        print('wrote %s: %d runs, %d rows' % (
            args.output, len(report.runs), report.rows_shown))


def check_output(path):
    """:raise CommandError: if the page cannot be written to ``path``
    (``-``: standard output), before anything is read."""
    if path == '-':
        return
    if os.path.isdir(path):
        raise CommandError('cannot write %s: it is a directory' % path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CommandError('cannot write %s: no directory %s'
                           % (path, folder))
    if not os.access(folder, os.W_OK | os.X_OK) or (
            os.path.exists(path) and not os.access(path, os.W_OK)):
        raise CommandError('cannot write %s: permission denied' % path)


def write_output(path, page):
    """Write ``page`` to ``path`` (UTF-8), or to standard output for
    ``-``.

    :raise CommandError: if it cannot be written.
    """
    if path == '-':
        sys.stdout.write(page)
        return
    try:
        with open(path, 'w', encoding='utf-8', newline='\n') as f:
            f.write(page)
    except OSError as error:
        raise CommandError('cannot write %s: %s'
                           % (path, error.strerror or error)) from None


def read_report(url, layout, scripts=None, version_table=None, since=None,
                last=None, verify=None):
    """What the page shows of the history table ``layout`` names in the
    database of ``url`` (see :func:`.output.html.write_page`).

    :param verify: True to run verify's checks and take the digest,
        False not to, None to do so on a table of at most
        :data:`VERIFY_LIMIT` rows.
    :raise CommandError: if the database or the table cannot be read.
    """
    from sqlalchemy import select
    if scripts is not None:
        project.read_scripts(scripts)
    report = types.SimpleNamespace(
        database=database.masked(url), separator=layout.separator,
        made_at=datetime.datetime.now(datetime.timezone.utc), title=None,
        script_heads=(None if scripts is None
                      else project.script_heads(scripts)))
    with database.connect(url) as connection:
        table = project.reflect_table(connection, layout.table_name,
                                      layout.schema, url)
        report.table = table.fullname
        columns = table_roles(table, layout)
        where = []
        if since is not None:
            where.append(layout.column(table, CHANGE_TIME_COLUMN,
                                       '--since') >= since)
        limit = last or ROW_LIMIT
        query = select(*[as_stored(column, connection.dialect).label(role)
                         for role, column in columns.items()]
                       ).where(*where).order_by(columns[ID_COLUMN].desc())
        rows = [dict(row) for row in connection.execute(
            query.limit(limit + 1)).mappings()]
        report.more = len(rows) > limit
        del rows[limit:]
        rows.reverse()
        report.current_heads = project.current_heads(connection,
                                                     version_table, url)
        if verify is None:
            verify = not holds_more(connection, columns[ID_COLUMN],
                                    VERIFY_LIMIT)
        large = 'the table holds more than %d rows' % VERIFY_LIMIT
        report.checks, report.verify_note = run_checks(
            connection, table, layout, report.current_heads, scripts, url) \
            if verify else (None, large + ' (pass --verify to run the '
                            'checks, or run audit-alembic verify)')
        report.digest, report.digest_note = take_digest(
            connection, table, columns[ID_COLUMN].name) if verify else (
            None, 'not taken: %s (pass --verify, or run audit-alembic '
            'digest)' % large)
    report.columns = set(columns)
    report.runs = group_runs(rows)
    report.rank = revision_ranks(report.runs, layout.split)
    report.rows_shown = len(rows)
    report.notice = notice(len(rows), report.more, since, last)
    return report


def holds_more(connection, id_column, count):
    """Whether the table of ``id_column`` holds more than ``count`` rows
    (found along its index, without counting them all)."""
    from sqlalchemy import select
    return connection.execute(select(id_column).order_by(id_column)
                              .offset(count).limit(1)).first() is not None


def table_roles(table, layout):
    """Role -> column of ``table``, for each role it has.

    :raise CommandError: if it lacks the id or the revision column.
    """
    for role in (ID_COLUMN, NEW_VERSION_COLUMN):
        layout.column(table, role, 'report')
    found = {}
    for role in values.ROLES:
        name = layout.name(role.name) if role.name in layout.names \
            else role.name
        if name in table.c:
            found[role.name] = table.c[name]
    return found


def notice(shown, more, since, last):
    """What the page says of the rows it leaves out, or None."""
    when = ' recorded since %s UTC' % since.isoformat(sep=' ') \
        if since is not None else ''
    if more and last is None:
        return ('The history holds more than %d rows%s: this page shows '
                'the newest %d.  Pass --since or --last to choose others.'
                % (shown, when, shown))
    if more:
        return 'Shown: the newest %d rows%s; the history holds more.' % (
            shown, when)
    if since is not None:
        return 'Shown: the rows%s.' % when
    return None
