"""``audit-alembic demo``: Audit-Alembic at work on a scratch project.

The project is made with Alembic's own API, as ``alembic init`` would,
with an ``env.py`` that wires in an :class:`~audit_alembic.Auditor`.
The Alembic commands run in this process, through Alembic's API, and
print what the ``alembic`` command would; a kept project is an ordinary
one, for the real ``alembic`` command.
"""
import argparse
import contextlib
import io
import logging
import os
import re
import shlex
import shutil
import sys
import tempfile
import traceback

from .. import database
from .. import paths
from ..exc import CommandError
from ..masking import hide_secrets
from ..masking import masked
from ..masking import secrets_of
from ..values import DEFAULT_TABLE_NAME

#: The application version the demo's env.py records with each step.
USER_VERSION = 'myapp 1.0'
VERSION_TABLE = 'alembic_version'
SCRIPTS = 'migrations'
SQLITE_FILE = 'demo.db'
#: The Alembic commands the demo runs, in order; the first fails on
#: purpose, in the last revision's script, and the second succeeds.
COMMANDS = (('upgrade', 'head'), ('upgrade', 'head'), ('downgrade', '-1'),
            ('stamp', 'head'))
#: What the last revision's first try raises.
FIRST_TRY_ERROR = 'the first try of this step fails, on purpose'

#: (id, message, upgrade body, downgrade body) of the demo's revisions,
#: after the three of Alembic's tutorial.
REVISIONS = (
    ('1975ea83b712', 'create account table',
     'op.create_table(\n'
     '        "demo_account",\n'
     '        sa.Column("id", sa.Integer, primary_key=True),\n'
     '        sa.Column("name", sa.String(50), nullable=False),\n'
     '    )',
     'op.drop_table("demo_account")'),
    ('ae1027a6acf', 'add a column',
     'op.add_column(\n'
     '        "demo_account",\n'
     '        sa.Column("last_transaction_date", sa.DateTime),\n'
     '    )',
     'with op.batch_alter_table("demo_account") as batch_op:\n'
     '        batch_op.drop_column("last_transaction_date")'),
    ('27c6a30d7c24', 'add an invoice table',
     'import os\n'
     '\n'
     '    # Fail on the first try, as a step can in real life.\n'
     '    first_try = os.path.join(os.path.dirname(__file__), "first_try")\n'
     '    if not os.path.exists(first_try):\n'
     '        open(first_try, "w").close()\n'
     '        raise RuntimeError("%s")\n'
     '    op.create_table(\n' % FIRST_TRY_ERROR +
     '        "demo_invoice",\n'
     '        sa.Column("id", sa.Integer, primary_key=True),\n'
     '        sa.Column("account_id", sa.Integer,\n'
     '                  sa.ForeignKey("demo_account.id"), nullable=False),\n'
     '        sa.Column("amount", sa.Numeric(10, 2), nullable=False),\n'
     '    )',
     'op.drop_table("demo_invoice")'),
)
#: The format of the "generic" formatter of the alembic.ini that
#: ``alembic init`` writes: how the ``alembic`` command prints its log.
LOG_FORMAT = '%(levelname)-5.5s [%(name)s] %(message)s'
#: The mode of a file holding a password: readable by its owner only.
PRIVATE_MODE = 0o600
#: Every table the demo creates, in an order they can be dropped in.
TABLES = ('demo_invoice', 'demo_account', VERSION_TABLE, DEFAULT_TABLE_NAME)

EPILOG = '''\
The demo creates an Alembic project in a temporary directory with
`alembic init`, puts Audit-Alembic's env.py in it, adds three revisions
(the last fails on its first try) and runs `alembic upgrade head` twice,
`alembic downgrade -1` and `alembic stamp head` (through Alembic's API,
in this process) before printing the history table.  With --url it
refuses a database that already has its tables, and drops them again
afterwards unless --keep is given.
'''


def add_parser(commands):
    """Add the ``demo`` command to the ``commands`` subparsers."""
    parser = commands.add_parser(
        'demo', help='run Alembic with an Auditor on a scratch project',
        description='Show Audit-Alembic at work: build a scratch Alembic '
                    'project on SQLite\n(or --url), run a few commands and '
                    'print the history they left.',
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
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
    :raise CommandError: if the database cannot be used or a command fails.
    """
    out = out or sys.stdout
    if keep is not None:
        keep = _check_keep(keep)
    db_url = new_sqlite_file = None
    if url is not None:
        db_url, new_sqlite_file = _check_database(url)
    else:
        # Alembic runs in this process: load SQLite's driver, as
        # _check_database does for --url (pysqlite3 for a missing sqlite3),
        # before making a directory.
        database.require_driver(database.parse_url('sqlite://', 'demo'))
    directory = _make_directory(keep)
    try:
        if db_url is None:
            db_url = database.parse_url(
                'sqlite:///' + os.path.join(directory, SQLITE_FILE), 'demo')
            ini_url = 'sqlite:///%(here)s/' + SQLITE_FILE
        else:
            ini_url = db_url.render_as_string(hide_password=False)
            ini_url = ini_url.replace('%', '%%')
        private = has_password(db_url)
        _build(directory, ini_url, private)
        _introduce(out, directory, ini_url if url is None
                   else masked(db_url), private)
        _run_alembic(directory, COMMANDS[0], db_url, out,
                     expected_error=FIRST_TRY_ERROR)
        out.write('(Audit-Alembic recorded the failed attempt; try again:)\n')
        for command in COMMANDS[1:]:
            _run_alembic(directory, command, db_url, out)
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


def build_project(directory, ini_url, private=False):
    """Make an Alembic project in ``directory``: alembic.ini (with
    ``sqlalchemy.url = ini_url``, readable by its owner only if
    ``private``), an env.py wiring in an Auditor and the demo revisions."""
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    ini_path = os.path.join(directory, 'alembic.ini')
    config = Config(ini_path, cmd_opts=argparse.Namespace(quiet=True))
    # Some of init's messages ignore "quiet"; the demo sums them up.
    with contextlib.redirect_stdout(io.StringIO()):
        command.init(config, os.path.join(directory, SCRIPTS))
    _set_ini_options(ini_path, [
        ('script_location', '%(here)s/' + SCRIPTS),
        ('sqlalchemy.url', ini_url),
    ], private=private)
    shutil.copyfile(paths.ENV_PY_TEMPLATE,
                    os.path.join(directory, SCRIPTS, 'env.py'))
    config = Config(ini_path, cmd_opts=argparse.Namespace(quiet=True))
    with _sys_path_kept():
        scripts = ScriptDirectory.from_config(config)
    down = 'base'
    for revision, message, upgrade, downgrade in REVISIONS:
        scripts.generate_revision(revision, message, head=down, refresh=True,
                                  upgrades=upgrade, downgrades=downgrade)
        down = revision


def _build(directory, ini_url, private):
    from alembic.util import CommandError as AlembicError
    try:
        build_project(directory, ini_url, private)
    except (AlembicError, OSError) as err:
        raise CommandError('cannot build the demo project in %s: %s'
                           % (directory, err)) from None


def _check_project(directory, db_url, out):
    """Show ``audit-alembic status`` and ``verify`` on the project."""
    from alembic.script import ScriptDirectory

    from .status import show_status
    from .verify import show_verification
    scripts = ScriptDirectory(os.path.join(directory, SCRIPTS))
    out.write('\n$ audit-alembic status\n')
    show_status(scripts, db_url, out=out)
    out.write('\n$ audit-alembic verify\n')
    show_verification(scripts, db_url, out=out)


def drop_demo_tables(url):
    """Drop those of the demo's tables that exist in ``url``'s database;
    return their names."""
    from sqlalchemy import MetaData
    from sqlalchemy import inspect
    with database.connect(url, must_exist=False) as connection:
        existing = set(inspect(connection).get_table_names())
        names = [name for name in TABLES if name in existing]
        metadata = MetaData()
        metadata.reflect(connection, only=names)
        metadata.drop_all(connection)
        connection.commit()
    return names


def _check_database(text):
    """Fail early on a database the demo cannot or should not use.

    Returns its URL (a SQLite path made absolute, since Alembic runs in
    the project directory) and, if the URL names a SQLite file that does
    not exist yet, its path.
    """
    from sqlalchemy import inspect
    url = database.parse_url(text, 'the --url value')
    new_file = None
    if url.get_backend_name() == 'sqlite':
        if url.database in (None, '', ':memory:'):
            raise CommandError('an in-memory SQLite database does not outlive '
                               'a command; leave out --url to use a SQLite '
                               'file')
        url = url.set(database=os.path.abspath(url.database))
        folder = os.path.dirname(url.database)
        if not os.path.isdir(folder):
            raise CommandError('cannot connect to %s: no such directory %s'
                               % (masked(url), folder))
        if not os.path.exists(url.database):
            new_file = url.database
    with database.connect(url, must_exist=False) as connection:
        found = set(inspect(connection).get_table_names()) & set(TABLES)
    if found:
        raise CommandError(
            '%s already has table%s %s; the demo only runs on a database '
            'without its tables (%s), or leave out --url to use SQLite'
            % (masked(url), 's' if len(found) > 1 else '',
               ', '.join(sorted(found)), ', '.join(TABLES)))
    return url, new_file


def _check_keep(keep):
    """The absolute path of a --keep directory, if it is new or empty."""
    directory = os.path.abspath(keep)
    if os.path.exists(directory):
        if not os.path.isdir(directory):
            raise CommandError('--keep %s: not a directory' % keep)
        if os.listdir(directory):
            raise CommandError('--keep %s: the directory is not empty; name '
                               'a new or empty one' % keep)
    return directory


def _make_directory(keep):
    if keep is None:
        return tempfile.mkdtemp(prefix='audit-alembic-demo-')
    try:
        os.makedirs(keep, exist_ok=True)
    except OSError as err:
        raise CommandError('--keep %s: %s' % (keep, err.strerror)) from None
    return keep


def _set_ini_options(path, options, private=False):
    """Set options of the [alembic] section in place, keeping comments.

    With ``private``, the file is made readable by its owner only (mode
    0600) before the options are written.
    """
    with open(path) as f:
        text = f.read()
    for name, value in options:
        pattern = re.compile(r'^%s\s*=.*$' % re.escape(name), re.MULTILINE)
        if not pattern.search(text):
            raise CommandError('unexpected alembic.ini from alembic init: no '
                               '%s line' % name)
        text = pattern.sub(lambda _: '%s = %s' % (name, value), text, 1)
    if private:
        os.chmod(path, PRIVATE_MODE)
    with open(path, 'w') as f:
        f.write(text)


def has_password(url):
    """Whether SQLAlchemy URL ``url`` holds a password."""
    return bool(secrets_of(url))


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
        with _alembic_log_to(out), _sys_path_kept():
            getattr(command, name)(config, *command_args)
    except Exception as err:
        if expected_error is not None and expected_error in str(err):
            out.write(_short_traceback(err))
            return
        raise CommandError('`%s` failed: %s' % (
            shown, hide_secrets(_first_line(err), db_url))) from None
    if expected_error is not None:
        raise CommandError('`%s` succeeded; the demo expected it to fail '
                           'with "%s"' % (shown, expected_error))


@contextlib.contextmanager
def _alembic_log_to(out):
    """Print the ``alembic`` logger's INFO lines (and worse) to ``out``
    in the format of alembic.ini, and only there, for the duration; then
    leave the logger as it was."""
    logger = logging.getLogger('alembic')
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    try:
        logger.setLevel(logging.INFO)
        logger.propagate = False
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


@contextlib.contextmanager
def _sys_path_kept():
    """Undo, at the end, what Alembic adds to ``sys.path`` (alembic.ini's
    ``prepend_sys_path``, each time a script directory is read)."""
    saved = list(sys.path)
    try:
        yield
    finally:
        sys.path[:] = saved


def _short_traceback(err):
    """``err``'s traceback as ``[N lines of traceback]`` and the
    exception's last line."""
    lines = ''.join(traceback.format_exception(err)).splitlines()
    return '[%d lines of traceback]\n%s\n' % (len(lines) - 1, lines[-1])


def _first_line(err):
    """``err`` as one line: its class and its message's first line."""
    lines = str(err).strip().splitlines()
    return type(err).__name__ + (': ' + lines[0] if lines else '')
