"""The scratch environments tests are built on."""
import os
import tempfile
import types
import unittest

from sqlalchemy import create_engine
from sqlalchemy import make_url
from sqlalchemy import event
from sqlalchemy import inspect
from sqlalchemy import text

from audit_alembic.testing import config
from audit_alembic.testing.fixtures import Rev
from audit_alembic.testing.fixtures import ScratchEnvironment
from audit_alembic.testing.fixtures import TestBase
from audit_alembic.testing.fixtures import reachable_url
from audit_alembic.testing.plugin import plugin_base


class ScratchEnvironmentTest(unittest.TestCase):
    def setUp(self):
        self.engine = create_engine('sqlite://')
        self.addCleanup(self.engine.dispose)
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.addCleanup(setattr, tempfile, 'tempdir', tempfile.tempdir)
        tempfile.tempdir = self.folder = folder.name

    def test_refuses_a_table_in_the_way_and_leaves_nothing_behind(self):
        with self.engine.begin() as connection:
            connection.execute(text('CREATE TABLE alembic_version (x INT)'))
            connection.execute(text('INSERT INTO alembic_version VALUES (1)'))
        with self.assertRaisesRegex(RuntimeError, "'alembic_version' already"):
            ScratchEnvironment(self.engine)
        self.assertEqual(os.listdir(self.folder), [])
        with self.engine.connect() as connection:
            self.assertEqual(connection.execute(text(
                'SELECT x FROM alembic_version')).scalars().all(), [1])

    def test_close_removes_its_folder_and_tables(self):
        env = ScratchEnvironment(self.engine, [Rev('A')])
        env.run('upgrade', 'head')
        self.assertEqual(len(os.listdir(self.folder)), 1)
        self.assertEqual(inspect(self.engine).get_table_names(), [
            'alembic_version', 'alembic_version_history', 'scratch_a'])
        env.close()
        self.assertEqual(os.listdir(self.folder), [])
        self.assertEqual(inspect(self.engine).get_table_names(), [])

    def test_second_close_leaves_a_newer_environment_alone(self):
        env = ScratchEnvironment(self.engine, [Rev('A')])
        env.run('upgrade', 'head')
        env.close()
        newer = ScratchEnvironment(self.engine, [Rev('A')])
        self.addCleanup(newer.close)
        newer.run('upgrade', 'head')
        env.close()  # as a repeated tearDownClass does
        self.assertEqual(inspect(self.engine).get_table_names(), [
            'alembic_version', 'alembic_version_history', 'scratch_a'])

    def test_close_drops_referencing_tables_first(self):
        @event.listens_for(self.engine, 'connect')
        def enforce_foreign_keys(dbapi_connection, record):
            dbapi_connection.execute('PRAGMA foreign_keys = ON')
        child = Rev('B', 'A', upgrade=(
            'op.create_table("child", sa.Column("a_id", sa.Integer, '
            'sa.ForeignKey("scratch_a.id")))'), downgrade='pass')
        env = ScratchEnvironment(self.engine, [Rev('A'), child])
        env.own('child')
        env.run('upgrade', 'head')
        with self.engine.begin() as connection:
            connection.execute(text('INSERT INTO scratch_a VALUES (1)'))
            connection.execute(text('INSERT INTO child VALUES (1)'))
        env.close()
        self.assertEqual(inspect(self.engine).get_table_names(), [])


class ReachableUrlTest(unittest.TestCase):
    """The URL other processes reach a test's database by."""

    def test_in_memory_becomes_a_file_in_the_folder(self):
        for url in ('sqlite://', 'sqlite:///:memory:',
                    'sqlite:///file::memory:?uri=true',
                    'sqlite:///file:db?mode=memory&cache=shared&uri=true'):
            with self.subTest(url=url):
                self.assertEqual(
                    reachable_url(make_url(url), '/tmp/x').render_as_string(),
                    'sqlite:////tmp/x/test.db')

    def test_files_become_absolute_servers_stay(self):
        self.assertEqual(reachable_url(make_url('sqlite:///a.db'), '/x'),
                         make_url('sqlite:///' + os.path.abspath('a.db')))
        for url in ('sqlite:///file:a.db?uri=true',
                    'postgresql://scott:tiger@localhost/test'):
            with self.subTest(url=url):
                self.assertEqual(reachable_url(make_url(url), '/x'),
                                 make_url(url))


class ClassTargetTest(unittest.TestCase):
    def test_a_label_names_a_target_of_the_run(self):
        # As the per-target copies of __backend__ classes carry.
        target = config.first_target()
        copy = type('Copy', (TestBase,), {'__target__': target.label})
        self.assertIs(copy.class_target(), target)
        self.assertIs(TestBase.class_target(), target)


class GenerateSubTestsTest(unittest.TestCase):
    """The per-target classes both runners collect (pytest: one per
    target; nose2 with --all-targets: one per target but the first)."""

    def setUp(self):
        self.module = types.ModuleType('a_test_module')

        class Backend(TestBase):
            __backend__ = True
            __module__ = 'a_test_module'

            def test_it(self):
                pass
        self.Backend = Backend
        self.targets = [types.SimpleNamespace(label=label)
                        for label in ('sqlite', 'postgresql')]

    def test_one_class_per_target_bound_by_label(self):
        classes = list(plugin_base.generate_sub_tests(
            self.Backend, self.module, self.targets))
        self.assertEqual(
            [(cls.__name__, cls.__qualname__, cls.__target__,
              cls.__module__) for cls in classes],
            [('Backend_sqlite', 'Backend_sqlite', 'sqlite', 'a_test_module'),
             ('Backend_postgresql', 'Backend_postgresql', 'postgresql',
              'a_test_module')])
        for cls in classes:
            self.assertTrue(issubclass(cls, self.Backend))
            # Runners find them by name in their module.
            self.assertIs(getattr(self.module, cls.__name__), cls)
            # A copy is not copied again.
            self.assertFalse(plugin_base.is_backend_class(cls))
        self.assertEqual(list(plugin_base.generate_sub_tests(
            self.Backend, self.module, self.targets[1:])), classes[1:])

    def test_other_classes_run_as_they_are(self):
        for cls in (TestBase, ScratchEnvironmentTest):
            self.assertEqual(list(plugin_base.generate_sub_tests(
                cls, self.module, self.targets)), [cls])
        self.assertFalse(plugin_base.is_backend_class(len))


class AuditedDatabaseTest(unittest.TestCase):
    def test_second_close_does_nothing(self):
        from test.cli.support import AuditedDatabase
        database = AuditedDatabase(None, [Rev('A')])
        database.run('upgrade', 'head')
        database.close()
        self.assertFalse(os.path.exists(database.directory))
        database.close()  # its SQLite file is gone: no error either
