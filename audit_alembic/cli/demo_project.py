"""The demo's scratch Alembic project and its database.

The project is made with Alembic's own API, as ``alembic init`` would,
with Audit-Alembic's ``env.py`` and the demo's revisions (the last fails
on its first try).  Its directory must be new or empty, its database
must not hold the demo's tables yet, and they can be dropped again.
"""
import argparse
import contextlib
import io
import os
import re
import shutil
import sys
import tempfile

from .. import paths
from ..dialects import sqlite_in_memory
from ..exc import CommandError
from ..masking import masked
from ..masking import secrets_of
from ..values import DEFAULT_TABLE_NAME
from ..values import SNAPSHOT_TABLE_SUFFIX
from . import database

VERSION_TABLE = 'alembic_version'
#: The script directory, and the SQLite file (without --url), in the
#: project's directory.
SCRIPTS = 'migrations'
SQLITE_FILE = 'demo.db'
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
#: The mode of a file holding a password: readable by its owner only.
PRIVATE_MODE = 0o600
#: Every table the demo creates, in an order they can be dropped in.
TABLES = ('demo_invoice', 'demo_account', VERSION_TABLE, DEFAULT_TABLE_NAME,
          DEFAULT_TABLE_NAME + SNAPSHOT_TABLE_SUFFIX)


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
    set_ini_options(ini_path, [
        ('script_location', '%(here)s/' + SCRIPTS),
        ('sqlalchemy.url', ini_url),
    ], private=private)
    shutil.copyfile(paths.ENV_PY_TEMPLATE,
                    os.path.join(directory, SCRIPTS, 'env.py'))
    config = Config(ini_path, cmd_opts=argparse.Namespace(quiet=True))
    with sys_path_kept():
        scripts = ScriptDirectory.from_config(config)
    down = 'base'
    for revision, message, upgrade, downgrade in REVISIONS:
        scripts.generate_revision(revision, message, head=down, refresh=True,
                                  upgrades=upgrade, downgrades=downgrade)
        down = revision


def build(directory, ini_url, private):
    """:func:`build_project`, failing in one line.

    :raise CommandError: if the project cannot be built.
    """
    from alembic.util import CommandError as AlembicError
    try:
        build_project(directory, ini_url, private)
    except (AlembicError, OSError) as err:
        raise CommandError('cannot build the demo project in %s: %s'
                           % (directory, err)) from None


def set_ini_options(path, options, private=False):
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


@contextlib.contextmanager
def sys_path_kept():
    """Undo, at the end, what Alembic adds to ``sys.path`` (alembic.ini's
    ``prepend_sys_path``, each time a script directory is read)."""
    saved = list(sys.path)
    try:
        yield
    finally:
        sys.path[:] = saved


def check_database(text):
    """Fail early on a database the demo cannot or should not use.

    Returns its URL (a SQLite path made absolute, since Alembic runs in
    the project directory) and, if the URL names a SQLite file that does
    not exist yet, its path.
    """
    from sqlalchemy import inspect
    url = database.parse_url(text, 'the --url value')
    new_file = None
    if url.get_backend_name() == 'sqlite':
        if sqlite_in_memory(url):
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


def check_keep(keep):
    """The absolute path of a --keep directory, if it is new or empty."""
    directory = os.path.abspath(keep)
    if os.path.exists(directory):
        if not os.path.isdir(directory):
            raise CommandError('--keep %s: not a directory' % keep)
        if os.listdir(directory):
            raise CommandError('--keep %s: the directory is not empty; name '
                               'a new or empty one' % keep)
    return directory


def make_directory(keep):
    """The project's directory: ``keep`` (made if new), or a new
    temporary directory."""
    if keep is None:
        return tempfile.mkdtemp(prefix='audit-alembic-demo-')
    try:
        os.makedirs(keep, exist_ok=True)
    except OSError as err:
        raise CommandError('--keep %s: %s' % (keep, err.strerror)) from None
    return keep


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
