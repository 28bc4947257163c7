"""Each run in databases of its own: SQLite files, --dropfirst, and no
table it did not create touched."""
import contextlib
import glob
import os
import sqlite3
import unittest
from unittest import mock

from sqlalchemy import create_engine
from sqlalchemy import text
from sqlalchemy.engine import make_url

from audit_alembic.testing import backends
from audit_alembic.testing import config
from audit_alembic.testing import provision
from audit_alembic.testing.plugin import plugin_base
from audit_alembic.testing.fixtures import TestBase
from test.runner.support import PASSWORD
from test.runner.support import Checkout
from test.runner.support import CheckoutTestMixin
from test.runner.support import closed_port
from test.runner.support import dbs_listing
from test.runner.support import skip_without
from test.runner.test_servers import require_server

SAMPLE = 'test.runner.sample'


#: A process id no process can have (above Linux's largest pid_max).
DEAD_PID = 2 ** 22 + 1


def sqlite_tables(path):
    with contextlib.closing(sqlite3.connect(path)) as db:
        return sorted(row[0] for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type='table'"))


class FileTargetTest(unittest.TestCase):
    """One nose run on a SQLite file target with --dropfirst: the file
    holds a table in the tests' way and another; a killed run left a file.
    A second target, whose server is down, is named too: nose2 runs
    against the first only, and touches no other."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.checkout = Checkout()
        cls.keep = cls.checkout.path('keep.db')
        with contextlib.closing(sqlite3.connect(cls.keep)) as db, db:
            db.execute('CREATE TABLE a_table (x INTEGER)')
            db.execute('CREATE TABLE alembic_version_history (x INTEGER)')
        cls.leftover = 'test_aa_%d_0123abcd' % DEAD_PID
        sqlite3.connect(cls.checkout.path(cls.leftover + '.db')).close()
        cls.checkout.write_test_cfg(
            '[db]\nfile = sqlite:///%s\ndown = postgresql+psycopg://scott:'
            '%s@127.0.0.1:%d/test\n' % (cls.keep, PASSWORD, closed_port()))
        # In this process: what --dbs prints (ConfigFilesTest runs it).
        cls.listing = dbs_listing(cls.checkout.root)
        cls.result = cls.checkout.nose(
            '--db', 'file', '--db', 'down', '--dropfirst', SAMPLE,
            'test.audit.test_recording:RecordingTest.test_table_definition')

    @classmethod
    def tearDownClass(cls):
        cls.checkout.remove()
        super().tearDownClass()

    def test_nose_touches_only_the_target_tests_use(self):
        self.assertEqual(self.result.returncode, 0, self.result.output)
        self.assertNotIn('cannot connect', self.result.output)

    def test_runs_in_a_file_of_its_own(self):
        self.assertEqual(self.result.returncode, 0, self.result.output)
        self.assertEqual(sqlite_tables(self.keep),
                         ['a_table', 'alembic_version_history'])
        self.assertEqual(glob.glob(self.checkout.path('test_aa_*')), [])

    def test_dbs_lists_leftovers_of_killed_runs(self):
        self.assertIn('Leftover per-run databases on sqlite:///%s (drop them '
                      'with --dropfirst): %s' % (self.keep, self.leftover),
                      self.listing)

    def test_dropfirst_drops_only_leftovers_of_killed_runs(self):
        # Under pytest: PytestRunnerTest.test_dropfirst_waits_for_good_
        # test_paths.
        self.assertEqual(self.result.returncode, 0, self.result.output)
        self.assertIn('--dropfirst: dropped 1 leftover database of killed '
                      'runs from sqlite:///%s: %s'
                      % (self.keep, self.leftover), self.result.stderr)
        self.assertFalse(os.path.exists(
            self.checkout.path(self.leftover + '.db')))
        self.assertEqual(sqlite_tables(self.keep),
                         ['a_table', 'alembic_version_history'])


class DropAllTablesTest(TestBase):
    """--dropfirst where runs cannot have databases of their own."""

    __backend__ = True

    def test_views_are_dropped_before_their_tables(self):
        if not self.target.isolated:
            self.skipTest('drops every table: only in a per-run database')
        from audit_alembic.testing import leftovers
        from audit_alembic.testing import provision
        with self.engine.begin() as connection:
            connection.execute(text('CREATE TABLE base_t (n INTEGER)'))
            connection.execute(text(
                'CREATE VIEW view_v AS SELECT n FROM base_t'))
        target = provision.Target('copy', self.url)
        target.engine = self.engine
        message = leftovers.drop_all_tables(target)
        self.assertTrue(message.endswith(': base_t, view_v'), message)
        from sqlalchemy import inspect
        inspector = inspect(self.engine)
        self.assertEqual((inspector.get_table_names(),
                          inspector.get_view_names()), ([], []))


class NoDataLossTest(CheckoutTestMixin, TestBase):
    """A run, even a failing one, leaves tables it did not create alone."""

    __backend__ = True

    def make_table(self, url, name, rows):
        from sqlalchemy import create_engine, inspect
        engine = create_engine(url)
        self.addCleanup(engine.dispose)
        if inspect(engine).has_table(name):
            self.skipTest('the target already has a table %r' % name)
        with engine.begin() as connection:
            connection.execute(text('CREATE TABLE %s (n INTEGER)' % name))
            for n in range(rows):
                connection.execute(text('INSERT INTO %s VALUES (%d)'
                                        % (name, n)))

        def drop():
            with engine.begin() as connection:
                connection.execute(text('DROP TABLE %s' % name))
        self.addCleanup(drop)

        def contents():
            with engine.connect() as connection:
                return [row[0] for row in connection.execute(
                    text('SELECT n FROM %s ORDER BY n' % name))]
        return contents

    def test_tables_it_did_not_create_are_left_alone(self):
        # One failing run: its tests pass but one; it finds precious
        # beside its tables and alembic_version_history in their way.
        url = self.file_database_url()
        precious = self.make_table(url, 'precious', 5)
        in_the_way = self.make_table(url, 'alembic_version_history', 2)
        result = self.checkout.nose(
            '--dburi', url.render_as_string(hide_password=False),
            'test.audit.test_recording:RecordingTest', SAMPLE,
            env={'AUDIT_ALEMBIC_SAMPLE_FAIL': '1'})
        self.assertEqual(result.returncode, 1, result.output)
        if 'warning: cannot create a database' in result.stderr:
            # No isolation: the table in the way is reported, not dropped.
            self.assertIn("table 'alembic_version_history' already exists",
                          result.output)
        else:  # the run works in a database of its own
            self.assertIn('FAILED (failures=1)', result.output)
        self.assertEqual(precious(), [0, 1, 2, 3, 4])
        self.assertEqual(in_the_way(), [0, 1])


class BackendHooksTest(unittest.TestCase):
    """Provisioning's per-backend functions, found by the backend of what
    a hook is given."""

    def test_dispatch_on_urls_engines_and_targets(self):
        hook = backends.register.init(lambda where: 'any')
        hook.for_db('postgresql', 'mysql')(lambda where: 'server')
        engine = create_engine('sqlite://')
        self.addCleanup(engine.dispose)
        target = provision.Target('t', make_url('mysql+pymysql://h/db'))
        target.url = make_url('sqlite://')  # where it runs: not asked
        self.assertEqual(
            [hook(make_url('postgresql+psycopg://h/db')), hook(engine),
             hook(target), hook(make_url('oracle://h/db'))],
            ['server', 'any', 'server', 'any'])

    def test_which_targets_get_databases_of_their_own(self):
        for url, on_server, file in [
                ('postgresql+psycopg://h/db', True, False),
                ('mariadb+pymysql://h/db', True, False),
                ('sqlite:///x.db', False, True),
                ('sqlite://', False, False),
                ('sqlite:///file:x?mode=memory&uri=true', False, False),
                ('oracle://h/db', False, False)]:
            with self.subTest(url=url):
                self.assertIs(backends.on_server(make_url(url)), on_server)
                self.assertIs(backends.file_database(
                    make_url(url), 'test_aa_1_ab') is not None, file)


class FinishClosesConnectionsTest(unittest.TestCase):
    """The end of a run leaves no connection open in its engines' pools,
    after the drop of its database and of those its killed workers left:
    the garbage collector would close them at exit (psycopg warns)."""

    def test_no_connection_left_in_the_pools(self):
        skip_without('psycopg')
        url = make_url(require_server(self, 'postgresql'))
        target = provision.Target('probe', url)
        # As the process that started the run, whose per-run names carry
        # a process id nothing else has: the drop of leftovers finds
        # only what this test made.
        with mock.patch.object(provision, 'RUN_PID', DEAD_PID):
            provision.connect_all([target])
            self.addCleanup(provision.close_engines, target)
            if not provision.create_own_database(target):
                self.skipTest('the role may not create databases')
            self.addCleanup(provision.drop_own_database, target)
            with mock.patch.object(config, 'targets', [target]), \
                    mock.patch('os.getpid', return_value=DEAD_PID):
                plugin_base.finish()
        self.assertFalse(target.isolated)
        self.assertEqual([target.engine.pool.checkedin(),
                          target.admin_engine.pool.checkedin()], [0, 0])
