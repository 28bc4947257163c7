"""A base TestCase and throwaway Alembic environments for tests.

Example::

    class UpgradeTest(TestBase):
        __backend__ = True          # under pytest: once per --db target

        def test_upgrade(self):
            env = self.scratch_env([Rev('a'), Rev('b', 'a')])
            env.run('upgrade', 'head')
            self.assertEqual(len(env.history()), 2)
"""
import collections
import io
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest

from sqlalchemy import MetaData
from sqlalchemy import Table
from sqlalchemy import inspect
from sqlalchemy import select

from .. import paths
from ..masking import masked
from ..values import DEFAULT_TABLE_NAME
from . import config

#: A revision of a scratch environment.  ``down`` is None (a root), an id
#: or a tuple of ids (a merge); ``upgrade``/``downgrade`` replace the
#: default bodies, which create and drop table ``scratch_<id>``.
Rev = collections.namedtuple(
    'Rev', 'id down depends_on upgrade downgrade',
    defaults=(None, None, None, None))

#: The script of a :class:`Rev`, as ``alembic revision`` would write it
#: from a plain template.
SCRIPT = '''\
"""revision {id}"""
from alembic import op
import sqlalchemy as sa

revision = {id!r}
down_revision = {down!r}
branch_labels = None
depends_on = {depends_on!r}


def upgrade():
    {upgrade}


def downgrade():
    {downgrade}
'''

ALEMBIC_INI = '''\
[alembic]
script_location = %(here)s/scripts
sqlalchemy.url = {url}

[loggers]
keys = root

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console

[handler_console]
class = StreamHandler
args = (sys.stderr,)
formatter = generic

[formatter_generic]
format = %(levelname)s [%(name)s] %(message)s
'''


def reachable_url(url, directory):
    """``url`` as another process reaches it from any directory: an
    in-memory SQLite database becomes file ``test.db`` in ``directory``,
    a relative SQLite path becomes absolute, other URLs stay."""
    if url.get_backend_name() != 'sqlite':
        return url
    if url.database in (None, '', ':memory:'):
        return url.set(database=os.path.join(directory, 'test.db'))
    return url.set(database=os.path.abspath(url.database))


def alembic_command(name):
    """Alembic's command function ``name``.  Alembic is imported on first
    use, here and in :class:`ScratchEnvironment`: test modules that use no
    scratch environment, like the runner's sample, load in a fraction of
    the time."""
    from alembic import command
    return getattr(command, name)


def scratch_table(revision_id):
    """The table the default body of revision ``revision_id`` creates."""
    return 'scratch_%s' % revision_id.lower()


class ScratchEnvironment:
    """A throwaway Alembic project on one database.

    It lives in a temporary directory, holds the given revisions, and on
    :meth:`close` removes the directory and drops the tables it owns
    (the version table, the history table and the revisions' tables).
    It refuses to start if one of those already exists: the suite never
    touches a table it did not create.

    Its ``env.py`` is Audit-Alembic's own (see
    :data:`audit_alembic.paths.ENV_PY_TEMPLATE`).  ``auditor`` is the
    :class:`~audit_alembic.Auditor` it uses; by default one made by
    ``Auditor.create(user_version)``, and ``False`` for none at all.
    """

    def __init__(self, engine, revisions=(), auditor=None,
                 user_version='1.0', url=None, **configure_options):
        self.engine = engine
        self.url = url or engine.url
        self.directory = tempfile.mkdtemp(prefix='audit_alembic_')
        self.ini_path = os.path.join(self.directory, 'alembic.ini')
        self.owned_tables = set()
        self.user_version = user_version
        self.closed = False
        if auditor is None:
            from ..auditor import Auditor
            auditor = Auditor.create(user_version)
        try:
            self._init_project()
            self.config.attributes['auditor'] = auditor
            # The test runner configures logging.
            self.config.attributes['configure_logger'] = False
            self.config.attributes['configure_options'] = configure_options
            self.own(configure_options.get('version_table',
                                           'alembic_version'),
                     auditor.table.name if auditor else DEFAULT_TABLE_NAME,
                     *[scratch_table(revision.id) for revision in revisions
                       if revision.upgrade is None])
            for revision in revisions:
                self._write_script(revision)
        except BaseException:
            shutil.rmtree(self.directory, ignore_errors=True)
            raise

    def _init_project(self):
        scripts = os.path.join(self.directory, 'scripts')
        self.versions = os.path.join(scripts, 'versions')
        os.makedirs(self.versions)
        url = self.url.render_as_string(hide_password=False)
        for path, text in (
                (os.path.join(scripts, 'env.py'),
                 paths.read_env_py_template()),
                (self.ini_path, ALEMBIC_INI.format(
                    url=url.replace('%', '%%')))):
            with open(path, 'w') as f:
                f.write(text)
        from alembic.config import Config
        self.config = Config(self.ini_path, stdout=io.StringIO())

    def own(self, *table_names):
        """Make ``table_names`` tables that :meth:`close` drops.

        :raise RuntimeError: if the database already has one of them.
        """
        existing = set(inspect(self.engine).get_table_names())
        for table_name in table_names:
            if table_name in existing:
                raise RuntimeError(
                    'table %r already exists in %s; the test suite never '
                    'touches tables it did not create: use an empty database '
                    'or --dropfirst' % (table_name, masked(self.url)))
        self.owned_tables.update(table_names)

    def add_revision(self, revision):
        """Add the script of a :class:`Rev`, owning its default table."""
        if revision.upgrade is None:
            self.own(scratch_table(revision.id))
        self._write_script(revision)

    def _write_script(self, revision):
        table = scratch_table(revision.id)
        path = os.path.join(self.versions, '%s_revision_%s.py' % (
            revision.id, revision.id.lower()))
        with open(path, 'w') as f:
            f.write(SCRIPT.format(
                id=revision.id, down=revision.down,
                depends_on=revision.depends_on,
                upgrade=revision.upgrade or
                'op.create_table(%r, sa.Column("id", sa.Integer, '
                'primary_key=True))' % table,
                downgrade=revision.downgrade or 'op.drop_table(%r)' % table))

    def run(self, name, *args, connection=None, **kw):
        """Run Alembic command ``name`` (e.g. ``'upgrade', 'head'``) online.

        The command runs on ``connection`` if given, else on a new
        connection of the target engine, committed at the end.
        """
        if connection is None:
            with self.engine.connect() as connection:
                self.run(name, *args, connection=connection, **kw)
                connection.commit()
            return
        self.config.attributes['connection'] = connection
        try:
            alembic_command(name)(self.config, *args, **kw)
        finally:
            del self.config.attributes['connection']

    def sql(self, name, *args, **kw):
        """Run Alembic command ``name`` offline; return the SQL script."""
        self.config.output_buffer = io.StringIO()
        alembic_command(name)(self.config, *args, sql=True, **kw)
        return self.config.output_buffer.getvalue()

    def alembic(self, *args, **kw):
        """Run the real ``alembic`` command line in this project's folder,
        its env.py recording ``user_version`` as ``APP_VERSION``.

        Returns the :class:`subprocess.CompletedProcess`, text captured.
        """
        return subprocess.run(
            [sys.executable, '-m', 'alembic', '-c', self.ini_path] +
            list(args), cwd=self.directory, capture_output=True, text=True,
            timeout=120, env=paths.child_environment(
                APP_VERSION=str(self.user_version)), **kw)

    def history(self, table_name=DEFAULT_TABLE_NAME):
        """The rows of the history table, oldest first, as dicts."""
        metadata = MetaData()
        metadata.reflect(self.engine, only=[table_name])
        table = metadata.tables[table_name]
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(
                select(table).order_by(table.c.id))]

    def heads(self):
        """The revisions the database is at, per its version table."""
        from alembic.runtime.migration import MigrationContext
        with self.engine.connect() as connection:
            return set(MigrationContext.configure(
                connection, opts=self.config.attributes['configure_options']
            ).get_current_heads())

    def close(self):
        """Drop the owned tables that exist; remove the folder.

        Only the first call does anything: a later one must not drop
        tables another environment has made since (nose2's worker
        processes call a class's ``tearDownClass`` a second time, when
        the next class starts).
        """
        if self.closed:
            return
        self.closed = True
        # Dependent tables first; reading only the foreign keys is much
        # quicker than reflecting the tables.
        order = [name for name, _ in reversed(
            inspect(self.engine).get_sorted_table_and_fkc_names())
            if name in self.owned_tables]
        metadata = MetaData()
        with self.engine.begin() as connection:
            for name in order:
                Table(name, metadata).drop(connection)
        shutil.rmtree(self.directory, ignore_errors=True)


class AlembicProcess:
    """``alembic -c INI_PATH ARGS...`` run in a process of its own, forked
    from this one (so it starts in milliseconds, with everything already
    imported), for tests of concurrent deploys: ``returncode`` and
    ``stderr`` once :meth:`wait` returns.

    The child runs Alembic's own command line (``alembic.config.main``)
    with ``environ`` added to its environment, its output discarded and
    its stderr captured, and leaves with ``os._exit``: it never touches
    the connections it inherited.
    """

    def __init__(self, ini_path, *args, environ=None):
        self.args = ['-c', ini_path] + list(args)
        read_end, write_end = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # pragma: no cover (the child leaves by _exit)
            os.close(read_end)
            self._child(write_end, environ or {})
        os.close(write_end)
        self._stderr = os.fdopen(read_end, encoding='utf-8',
                                 errors='replace')
        self.returncode = self.stderr = None

    def _child(self, write_end, environ):  # pragma: no cover
        code = 1
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(write_end, 2)
            sys.stdout = open(1, 'w', closefd=False)
            sys.stderr = open(2, 'w', closefd=False)
            os.environ.update(environ)
            from alembic.config import main
            main(argv=self.args, prog='alembic')
            code = 0
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else 1
        except BaseException:
            import traceback
            traceback.print_exc()
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)

    def wait(self, timeout=120):
        """Wait (at most ``timeout`` seconds) for the child to end."""
        import select
        if not select.select([self._stderr], [], [], timeout)[0]:
            os.kill(self.pid, 9)
        self.stderr = self._stderr.read()
        self._stderr.close()
        _, status = os.waitpid(self.pid, 0)
        self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode


class SilentServer:
    """A TCP server on 127.0.0.1 that accepts connections and never says a
    word, like a database host that hangs: ``with SilentServer() as port``.
    """

    def __enter__(self):
        self.socket = socket.socket()
        self.socket.bind(('127.0.0.1', 0))
        self.socket.listen(8)  # the kernel accepts; nobody ever answers
        return self.socket.getsockname()[1]

    def __exit__(self, *exc_info):
        self.socket.close()


class TestBase(unittest.TestCase):
    """Base class for tests that use a database target.

    ``__backend__ = True`` makes pytest collect the class once per target
    (``ClassName_<target>``); otherwise, and under nose2, tests use the
    first target.
    """

    __backend__ = False
    __target__ = None

    @classmethod
    def class_target(cls):
        """The :class:`~.provision.Target` this class's tests run against
        (for ``setUpClass``)."""
        target = cls.__target__
        if isinstance(target, str):  # a label, as nose2 copies carry
            return config.target_named(target)
        return target or config.first_target()

    @property
    def target(self):
        """The :class:`~.provision.Target` this test runs against."""
        return self.class_target()

    @property
    def engine(self):
        return self.target.engine

    @property
    def url(self):
        return self.target.url

    @property
    def dialect_name(self):
        return self.engine.dialect.name

    def scratch_env(self, revisions=(), **kw):
        """A :class:`ScratchEnvironment` on this test's target, removed
        after the test."""
        env = ScratchEnvironment(self.engine, revisions, **kw)
        self.addCleanup(env.close)
        return env

    def process_scratch_env(self, revisions=(), **kw):
        """A :class:`ScratchEnvironment` on a database other processes
        reach (see :meth:`file_database_url`), removed after the test."""
        url = self.file_database_url()
        engine = self.engine
        if url is not self.url:
            from sqlalchemy import create_engine
            engine = create_engine(url)
            self.addCleanup(engine.dispose)
        env = ScratchEnvironment(engine, revisions, **kw)
        self.addCleanup(env.close)
        return env

    def file_database_url(self):
        """The target's URL as other processes reach it (see
        :func:`reachable_url`); a SQLite file standing in for an in-memory
        target is removed after the test."""
        directory = tempfile.mkdtemp(prefix='audit_alembic_db_')
        self.addCleanup(shutil.rmtree, directory, True)
        return reachable_url(self.url, directory)
