"""The ``audit-alembic`` command line (also ``python -m audit_alembic``).

``audit-alembic history`` prints the audit trail of a database;
``audit-alembic demo`` shows the whole thing working on a scratch project.
Exit codes: 0 success, 1 error (one line on stderr), 2 usage error.

Only the standard library is imported here; each command imports
SQLAlchemy and Alembic when it runs, so ``--help`` stays quick.
"""
import argparse
import os
import sys

PROG = 'audit-alembic'
DEFAULT_CONFIG = 'alembic.ini'
DEFAULT_SECTION = 'alembic'
DEFAULT_TABLE = 'alembic_version_history'
FORMATS = ('table', 'json', 'csv')


class CommandError(Exception):
    """A failure to report to the user: one line, no traceback, exit 1."""


def positive_int(text):
    """An argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(
            'expected a whole number of at least 1, not %r' % text)
    return value


def timestamp(text):
    """An argparse type: an ISO-8601 date or time, as a naive UTC datetime.

    A time without an offset is taken as UTC, the time zone of the
    recorded times.
    """
    import datetime
    value = text.strip()
    if value[-1:] in ('Z', 'z'):
        value = value[:-1] + '+00:00'
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            'not an ISO-8601 timestamp: %r (e.g. 2024-05-01, '
            '2024-05-01T12:30:00Z or 2024-05-01 14:30+02:00)' % text
        ) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return parsed


HISTORY_EPILOG = '''\
examples:
  audit-alembic history                      # sqlalchemy.url of ./alembic.ini
  audit-alembic history --last 20
  audit-alembic history --revision ae1027a6acf --format json
  audit-alembic history --url postgresql+psycopg://me@db/app --format csv

times are UTC; --since takes a date or an ISO-8601 time (UTC unless it
carries an offset).  A revision matches a row when it is the row's source
or destination revision, or one of them after a merge or a split.
'''

DEMO_EPILOG = '''\
The demo creates an Alembic project in a temporary directory with
`alembic init`, wires audit_alembic.Auditor into its env.py, adds three
revisions and runs `alembic upgrade head`, `alembic downgrade -1` and
`alembic stamp head` before printing the history table.  With --url it
refuses a database that already has its tables, and drops them again
afterwards unless --keep is given.
'''


def build_parser():
    """The argument parser of ``audit-alembic`` and its subcommands."""
    from . import __version__
    parser = argparse.ArgumentParser(
        prog=PROG,
        description='Read the history that Audit-Alembic records of every '
                    'Alembic upgrade, downgrade and stamp.')
    parser.add_argument('--version', action='version',
                        version='%(prog)s ' + __version__)
    commands = parser.add_subparsers(title='commands', dest='command',
                                     metavar='COMMAND', required=True)

    history = commands.add_parser(
        'history', help='print the audit trail of a database',
        description='Print the rows of an Audit-Alembic history table, '
                    'oldest first.',
        epilog=HISTORY_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    history.set_defaults(handler=run_history)
    database = history.add_argument_group('database')
    where = database.add_mutually_exclusive_group()
    where.add_argument('--url', metavar='URL',
                       help='SQLAlchemy URL of the database')
    where.add_argument('-c', '--config', metavar='FILE',
                       help='take sqlalchemy.url from this Alembic config '
                            'file (default: ./%s)' % DEFAULT_CONFIG)
    database.add_argument('-n', '--name', metavar='NAME',
                          default=DEFAULT_SECTION,
                          help='section of the config file '
                               '(default: %(default)s)')
    database.add_argument('--table', metavar='NAME', default=DEFAULT_TABLE,
                          help='history table (default: %(default)s)')
    database.add_argument('--schema', metavar='SCHEMA',
                          help='schema of the history table (default: the '
                               "connection's default schema)")
    filters = history.add_argument_group('filters')
    filters.add_argument('--revision', metavar='REV',
                         help='only steps from or to revision REV')
    filters.add_argument('--since', metavar='TIMESTAMP', type=timestamp,
                         help='only steps recorded at or after TIMESTAMP')
    filters.add_argument('--last', metavar='N', type=positive_int,
                         help='only the N most recent steps')
    output = history.add_argument_group('output')
    output.add_argument('--format', choices=FORMATS, default='table',
                        help='an aligned table (default), or every column '
                             'as JSON or CSV with ISO-8601 times')

    demo = commands.add_parser(
        'demo', help='run Alembic with an Auditor on a scratch project',
        description='Show Audit-Alembic at work: build a scratch Alembic '
                    'project on SQLite\n(or --url), run a few commands and '
                    'print the history they left.',
        epilog=DEMO_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    demo.set_defaults(handler=run_demo)
    demo.add_argument('--url', metavar='URL',
                      help='use this database instead of a SQLite file in '
                           'the project directory')
    demo.add_argument('--keep', metavar='DIR',
                      help='build the project in DIR (new or empty) and keep '
                           'it, to try Alembic and audit-alembic there')
    return parser


def run_history(args):
    """The ``history`` command."""
    from . import database
    from . import history
    if args.url is not None:
        url = database.parse_url(args.url, 'the --url value')
    else:
        url = database.url_from_config(args.config or DEFAULT_CONFIG,
                                       args.name)
    history.show_history(
        url, args.table, schema=args.schema, revision=args.revision,
        since=args.since, last=args.last, output_format=args.format,
        out=sys.stdout)


def run_demo(args):
    """The ``demo`` command."""
    from . import demo
    demo.run_demo(url=args.url, keep=args.keep, out=sys.stdout)


def main(argv=None):
    """Run ``audit-alembic`` with ``argv`` (default: ``sys.argv[1:]``).

    Returns the exit status: 0 on success, 1 on error; usage errors exit
    with status 2 from the argument parser.
    """
    args = build_parser().parse_args(argv)
    if hasattr(sys.stdout, 'reconfigure'):
        # Text the terminal cannot show comes out escaped, not as a crash.
        sys.stdout.reconfigure(errors='backslashreplace')
    try:
        args.handler(args)
        sys.stdout.flush()
    except CommandError as err:
        sys.stdout.flush()
        print('%s: error: %s' % (PROG, err), file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, and keep
        # Python from complaining while it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print('%s: interrupted' % PROG, file=sys.stderr)
        return 130
    return 0
