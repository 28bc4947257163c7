"""Argument types and option groups shared by the commands."""
import argparse
import os

from ..values import DEFAULT_TABLE_NAME

DEFAULT_CONFIG = 'alembic.ini'
DEFAULT_SECTION = 'alembic'
DEFAULT_VERSION_TABLE = 'alembic_version'
#: The largest count every database takes (a signed 64-bit integer).
MAX_COUNT = 2 ** 63 - 1


def positive_int(text):
    """An argparse type: an integer from 1 to :data:`MAX_COUNT`."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_COUNT:
        raise argparse.ArgumentTypeError(
            'expected a whole number from 1 to %d, not %r' % (MAX_COUNT, text))
    return value


def run_id(text):
    """An argparse type: a run id, or its start, as ``history`` shows it
    (hexadecimal digits and dashes, any case), in lower case."""
    value = text.strip().lower()
    if not 1 <= len(value) <= 36 or value.strip('0123456789abcdef-'):
        raise argparse.ArgumentTypeError(
            'expected a run id or its start (hexadecimal digits and dashes, '
            'as history shows it), not %r' % (text,))
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
        try:
            parsed = parsed.astimezone(datetime.timezone.utc)
        except OverflowError:
            raise argparse.ArgumentTypeError(
                'out of range: %r is not between years 1 and 9999 in UTC'
                % text) from None
        parsed = parsed.replace(tzinfo=None)
    return parsed


def add_database_options(parser):
    """``--url`` or ``-c/-n``, ``--table`` and ``--schema``: which history
    table of which database a command reads."""
    database = parser.add_argument_group('database')
    where = database.add_mutually_exclusive_group()
    where.add_argument('--url', metavar='URL',
                       help='SQLAlchemy URL of the database')
    where.add_argument('-c', '--config', metavar='FILE',
                       help='the Alembic config file: sqlalchemy.url and '
                            'script_location, read as alembic reads them; '
                            'FILE may be a pyproject.toml (default: '
                            'the file $ALEMBIC_CONFIG names, else ./%s '
                            'and ./pyproject.toml)' % DEFAULT_CONFIG)
    database.add_argument('-n', '--name', metavar='NAME',
                          default=DEFAULT_SECTION,
                          help='section of the config file '
                               '(default: %(default)s)')
    database.add_argument('--table', metavar='NAME',
                          help='history table (default: table_name of the '
                               '[audit_alembic] section of the config file, '
                               'else %s)' % DEFAULT_TABLE_NAME)
    database.add_argument('--schema', metavar='SCHEMA',
                          help='schema of the history table (default: the '
                               "connection's default schema)")
    from .layout import add_layout_options
    add_layout_options(database)
    return database


def add_script_location(group, what):
    """``--script-location DIR``: ``what`` the directory is for."""
    group.add_argument('--script-location', metavar='DIR',
                       help='%s (default: script_location of the config '
                            'file)' % what)


def add_project_options(group):
    """``--script-location`` and ``--version-table``: the Alembic project
    a command compares the database with."""
    add_script_location(group, 'the Alembic script directory')
    group.add_argument('--version-table', metavar='NAME',
                       help="Alembic's version table (default: %s; one "
                            'named here must exist)' % DEFAULT_VERSION_TABLE)


def table_layout(args):
    """The :class:`~.layout.TableLayout` of the history table, from the
    options and our settings in the project's config (see
    :mod:`.config`)."""
    from .config import named_config
    from .config import names_a_project
    from .config import project_config
    from .layout import layout_from
    # A missing -c FILE is for the URL or the scripts to report.
    config, _ = named_config(args.config)
    readable = config is None or os.path.isfile(config)
    project = project_config(args) if readable and \
        names_a_project(args.config) else None
    return layout_from(args, project)


def database_url(args):
    """The URL named by ``--url`` or by the Alembic config file.

    :raise .exc.CommandError: if neither gives a usable URL.
    """
    from . import database
    from .config import project_config
    from ..engines import show_path
    if args.url is not None:
        return database.parse_url(args.url, 'the --url value')
    project = project_config(args)
    return database.parse_url(project.sqlalchemy_url(),
                              'sqlalchemy.url of %s'
                              % show_path(project.ini_path))


def add_row_bounds(group, what='steps', last_default=''):
    """``--since TIMESTAMP`` and ``--last N``: which rows of the history
    (``what`` names them in the help; ``last_default`` adds to that of
    ``--last``)."""
    group.add_argument('--since', metavar='TIMESTAMP', type=timestamp,
                       help='only %s recorded at or after TIMESTAMP' % what)
    group.add_argument('--last', metavar='N', type=positive_int,
                       help='only the N most recent %s%s'
                            % (what, last_default))
