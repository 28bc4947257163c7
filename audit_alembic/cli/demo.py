"""``audit-alembic demo``: Audit-Alembic at work on a scratch project.

The project (see :mod:`.demo_project`) is made with Alembic's own API,
as ``alembic init`` would, with an ``env.py`` that wires in an
:class:`~audit_alembic.Auditor`.  The Alembic commands run in this
process, through Alembic's API, and print what the ``alembic`` command
would; then ``history``, ``status`` and ``verify`` show what they left.
A kept project is an ordinary one, for the real ``alembic`` command.
"""
import contextlib
import logging
import os
import shlex
import shutil
import sys
import traceback

from ..exc import CheckFailed
from ..exc import CommandError
from ..masking import hide_secrets
from ..masking import masked
from ..values import DEFAULT_TABLE_NAME
from . import database
from . import demo_project
from .demo_project import FIRST_TRY_ERROR
from .demo_project import REVISIONS
from .demo_project import SCRIPTS
from .demo_project import SQLITE_FILE
from .demo_project import drop_demo_tables
from .demo_project import sys_path_kept
from .output.text import error_line

#: The application version the demo's env.py records with each step.
USER_VERSION = 'myapp 1.0'
#: The Alembic commands the demo runs, in order; the first fails on
#: purpose, in the last revision's script, and the second succeeds.
COMMANDS = (('upgrade', 'head'), ('upgrade', 'head'), ('downgrade', '-1'),
            ('stamp', 'head'))
#: What someone does by hand after the second command: schema drift,
#: which the next command records.
HAND_CHANGE = 'ALTER TABLE demo_account ADD COLUMN nickname VARCHAR(30)'
#: The format of the "generic" formatter of the alembic.ini that
#: ``alembic init`` writes: how the ``alembic`` command prints its log.
LOG_FORMAT = '%(levelname)-5.5s [%(name)s] %(message)s'

EPILOG = '''\
The demo creates an Alembic project in a temporary directory with
`alembic init`, puts Audit-Alembic's env.py in it, adds three revisions
(the last fails on its first try) and runs `alembic upgrade head` twice,
`alembic downgrade -1` and `alembic stamp head` (through Alembic's API,
in this process) before printing the history table.  Between the second
and third command it adds a column by hand, as someone might on a
server: the third command records that schema drift.  It ends with
status, verify, and a digest of the trail verified against.  With --url it
refuses a database that already has its tables, and drops them again
afterwards unless --keep is given.
'''


def add_parser(commands):
    """Add the ``demo`` command to the ``commands`` subparsers."""
    parser = commands.add_parser(
        'demo', help='run Alembic with an Auditor on a scratch project',
        description='Show Audit-Alembic at work: build a scratch Alembic '
                    'project on SQLite (or --url), run a few commands and '
                    'print the history they left.',
        epilog=EPILOG)
    parser.add_argument('--url', metavar='URL',
                        help='use this database instead of a SQLite file in '
                             'the project directory')
    parser.add_argument('--keep', metavar='DIR',
                        help='build the project in DIR (new or empty) and '
                             'keep it, to try Alembic and audit-alembic there')
    return parser


def run(args):
    """Run ``audit-alembic demo`` with parsed ``args``."""
    show_demo(url=args.url, keep=args.keep, out=sys.stdout)


def show_demo(url=None, keep=None, out=None):
    """Build the scratch project, run the Alembic commands in it, print
    each command, its output and then the history table to ``out``.

    :param url: the database (a URL string); by default a SQLite file in
        the project.
    :param keep: a new or empty directory to build the project in and
        leave behind; by default a temporary directory, removed at the end.
    :raise CommandError: if the database cannot be used or a command
        fails (the demo exits 0 or 2: it shows, it checks nothing).
    """
    out = out or sys.stdout
    if keep is not None:
        keep = demo_project.check_keep(keep)
    db_url = new_sqlite_file = None
    if url is not None:
        db_url, new_sqlite_file = demo_project.check_database(url)
    else:
        # Alembic runs in this process: load SQLite's driver, as
        # _check_database does for --url (pysqlite3 for a missing sqlite3),
        # before making a directory.
        database.require_driver(database.parse_url('sqlite://', 'demo'))
    directory = demo_project.make_directory(keep)
    try:
        if db_url is None:
            db_url = database.parse_url(
                'sqlite:///' + os.path.join(directory, SQLITE_FILE), 'demo')
            ini_url = 'sqlite:///%(here)s/' + SQLITE_FILE
        else:
            ini_url = db_url.render_as_string(hide_password=False)
            ini_url = ini_url.replace('%', '%%')
        private = demo_project.has_password(db_url)
        demo_project.build(directory, ini_url, private)
        _introduce(out, directory, ini_url if url is None
                   else masked(db_url), private)
        _run_alembic(directory, COMMANDS[0], db_url, out,
                     expected_error=FIRST_TRY_ERROR)
        out.write('(Audit-Alembic recorded the failed attempt; try again:)\n')
        for number, command in enumerate(COMMANDS[1:], 1):
            _run_alembic(directory, command, db_url, out)
            if number == 1:
                _change_by_hand(db_url, out)
        out.write('\n$ audit-alembic history\n')
        from .history import show_history
        show_history(db_url, DEFAULT_TABLE_NAME, out=out)
        _check_project(directory, db_url, out)
    finally:
        if keep is None:
            shutil.rmtree(directory, ignore_errors=True)
            if new_sqlite_file is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(new_sqlite_file)
                out.write('\nRemoved %s.\n' % new_sqlite_file)
            elif url is not None:
                dropped = drop_demo_tables(db_url)
                if dropped:
                    out.write('\nDropped the tables of the demo from %s:\n'
                              '  %s\n' % (masked(db_url),
                                          ', '.join(dropped)))
    if keep is None:
        out.write('\nRemoved the scratch project; to keep one and try more '
                  'commands in it:\n  audit-alembic demo --keep DIR\n')
    else:
        place = shlex.quote(directory)
        out.write('\nThe project is kept in %s; to run Alembic or '
                  'Audit-Alembic there:\n'
                  '  cd %s && alembic history\n'
                  '  cd %s && audit-alembic history --last 3\n'
                  'Its database is stamped at head after a downgrade, as a '
                  'stamp can leave\none: demo_invoice is missing.  Run '
                  '"alembic stamp %s" to make\nthe two agree again '
                  'before you upgrade or downgrade.\n'
                  % (directory, place, place, REVISIONS[-2][0]))


def _check_project(directory, db_url, out):
    """Show ``audit-alembic status`` and ``verify`` on the project, then
    take a digest and verify against it."""
    import io

    from alembic.script import ScriptDirectory

    from .digest import show_digest
    from .layout import TableLayout
    from .status import show_status
    from .verify import read_digests
    from .verify import show_verification
    scripts = ScriptDirectory(os.path.join(directory, SCRIPTS))
    out.write('\n$ audit-alembic status\n')
    show_status(scripts, db_url, out=out)
    try:
        out.write('\n$ audit-alembic verify\n')
        show_verification(scripts, db_url, out=out)
        out.write('\n$ audit-alembic digest    # keep it outside the '
                  'database\n')
        line = io.StringIO()
        show_digest(db_url, TableLayout(), out=line)
        out.write(line.getvalue())
        out.write("\n$ audit-alembic verify --digest '<that line>'\n")
        show_verification(scripts, db_url, out=out,
                          digests=read_digests([line.getvalue()]))
    except CheckFailed as err:
        # The demo's own history should pass: it went wrong (exit 2).
        raise CommandError('the demo went wrong: %s' % err) from None


def _introduce(out, directory, shown_url, private):
    out.write('A scratch Alembic project in %s:\n' % directory)
    out.write('  alembic.ini           sqlalchemy.url = %s\n' % shown_url)
    if private:
        out.write('                        (it holds the password: readable '
                  'by you only, mode 0600)\n')
    out.write('  %s/env.py     records each step with '
              'audit_alembic.Auditor,\n'
              '                        user version %r\n'
              % (SCRIPTS, USER_VERSION))
    for i, (revision, message, _, _) in enumerate(REVISIONS):
        out.write('  %-20s  %s %s%s\n' % (
            '%s/versions/' % SCRIPTS if i == 0 else '', revision, message,
            ' (fails on its first try)' if i == len(REVISIONS) - 1 else ''))


def _change_by_hand(db_url, out):
    """Make :data:`HAND_CHANGE` in the database, and say so."""
    from sqlalchemy import create_engine
    out.write('\n$ # by hand, outside the migrations:\n$ %s\n' % HAND_CHANGE)
    engine = create_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(HAND_CHANGE)
    finally:
        engine.dispose()


def _run_alembic(directory, arguments, db_url, out, expected_error=None):
    """Run ``alembic ARGUMENTS`` on the project in ``directory`` through
    Alembic's API, printing the command and Alembic's log lines to ``out``
    as the ``alembic`` command would print them.

    The project's env.py leaves this process's logging alone and records
    with an Auditor for :data:`USER_VERSION` (the ``alembic`` command
    would take the version from ``$APP_VERSION``).  With
    ``expected_error``, the command must fail with that message: its
    traceback is shown cut down to its last line.

    :raise CommandError: naming the command and its error (passwords of
        ``db_url`` hidden) if it fails otherwise, or does not fail as
        expected.
    """
    from alembic import command
    from alembic.config import Config

    from ..auditor import Auditor
    shown = 'alembic ' + ' '.join(arguments)
    out.write('\n$ %s\n' % shown)
    name, *command_args = arguments
    config = Config(os.path.join(directory, 'alembic.ini'), stdout=out)
    config.attributes['configure_logger'] = False
    config.attributes['auditor'] = Auditor.create(USER_VERSION, details=True)
    try:
        with _alembic_log_to(out), sys_path_kept():
            getattr(command, name)(config, *command_args)
    except Exception as err:
        if expected_error is not None and expected_error in str(err):
            out.write(_short_traceback(err))
            return
        raise CommandError('`%s` failed: %s' % (
            shown, hide_secrets(error_line(err), db_url))) from None
    if expected_error is not None:
        raise CommandError('`%s` succeeded; the demo expected it to fail '
                           'with "%s"' % (shown, expected_error))


@contextlib.contextmanager
def _alembic_log_to(out):
    """Print the INFO lines (and worse) of the ``alembic`` and
    ``audit_alembic.auditor`` loggers (as the shipped env.py does) to
    ``out`` in the format of alembic.ini,
    and only there, for the duration; then leave the loggers as they
    were."""
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    loggers = [logging.getLogger(name) for name in (
        'alembic', 'audit_alembic.auditor')]
    saved = [(logger.level, logger.propagate) for logger in loggers]
    try:
        for logger in loggers:
            logger.addHandler(handler)
            logger.setLevel(logging.INFO)
            logger.propagate = False
        yield
    finally:
        for logger, (level, propagate) in zip(loggers, saved):
            logger.removeHandler(handler)
            logger.setLevel(level)
            logger.propagate = propagate


def _short_traceback(err):
    """``err``'s traceback as ``[N lines of traceback]`` and the
    exception's last line."""
    lines = ''.join(traceback.format_exception(err)).splitlines()
    return '[%d lines of traceback]\n%s\n' % (len(lines) - 1, lines[-1])
