"""What differs between versions and builds: compat.py and lazy loading."""
import subprocess
import sys
import types
import unittest

from sqlalchemy import literal
from sqlalchemy.dialects import mysql
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateTable

from audit_alembic import Auditor
from audit_alembic import CommonColumnValues
from audit_alembic import compat
from audit_alembic import exc
from audit_alembic import paths


def rendered(value, dialect):
    return str(literal(value).compile(
        dialect=dialect, compile_kwargs={'literal_binds': True}))


class StandardConformingStringsTest(unittest.TestCase):
    """Offline PostgreSQL scripts keep backslashes as they are, on
    SQLAlchemy 2.0 (which doubles them by default) and 2.1 alike."""

    def test_backslashes_are_not_doubled_inside(self):
        dialect = postgresql.dialect()
        before = rendered('a\\b', dialect)
        with compat.standard_conforming_strings(dialect):
            self.assertEqual(rendered('a\\b', dialect), "'a\\b'")
        self.assertEqual(rendered('a\\b', dialect), before)

    def test_other_dialects_are_left_alone(self):
        dialect = mysql.dialect()
        before = rendered('a\\b', dialect)
        with compat.standard_conforming_strings(dialect):
            self.assertEqual(rendered('a\\b', dialect), before)


class OperationTypeTest(unittest.TestCase):
    def step(self, is_stamp, is_migration):
        return types.SimpleNamespace(is_stamp=is_stamp,
                                     is_migration=is_migration,
                                     up_revision_id='ae1027a6acf')

    def test_stamp_and_migration(self):
        self.assertEqual(CommonColumnValues.operation_type(
            step=self.step(True, False)), 'stamp')
        self.assertEqual(CommonColumnValues.operation_type(
            step=self.step(False, True)), 'migration')

    def test_neither_raises_as_0_2_0_does(self):
        with self.assertRaisesRegex(exc.AuditRuntimeError,
                                    '^Unknown migration type ae1027a6acf$'):
            CommonColumnValues.operation_type(step=self.step(False, False))


class ChangeTimeTypeTest(unittest.TestCase):
    def ddl(self, dialect):
        return str(CreateTable(Auditor.create('v').table).compile(
            dialect=dialect))

    def test_microseconds_on_mysql(self):
        self.assertIn('changed_at DATETIME(6)', self.ddl(mysql.dialect()))

    def test_plain_timestamp_elsewhere(self):
        self.assertIn('changed_at TIMESTAMP WITHOUT TIME ZONE',
                      self.ddl(postgresql.dialect()))


def modules_loaded_by(code):
    """The top-level names of the SQLAlchemy and Alembic modules a fresh
    Python has imported after running ``code``."""
    probe = code + (
        '\nimport sys\nprint(" ".join(sorted(m for m in sys.modules if '
        'm.startswith(("sqlalchemy", "alembic")))))')
    result = subprocess.run([sys.executable, '-c', probe],
                            capture_output=True, text=True, timeout=60,
                            env=paths.child_environment())
    if result.returncode:
        raise AssertionError(result.stderr)
    return set(result.stdout.split())


class LazyImportTest(unittest.TestCase):
    def test_defining_an_auditor_loads_no_mysql_dialect(self):
        loaded = modules_loaded_by(
            'import audit_alembic\naudit_alembic.Auditor.create("v")')
        self.assertIn('sqlalchemy', loaded)
        self.assertNotIn('sqlalchemy.dialects.mysql', loaded)

    def test_test_modules_without_scratch_environments_skip_alembic(self):
        # The runner's own tests start many runs of its sample module.
        loaded = modules_loaded_by('import test.runner.sample.test_sample')
        self.assertIn('sqlalchemy', loaded)
        self.assertEqual({name for name in loaded
                          if name.startswith('alembic')}, set())

    def test_help_loads_neither_sqlalchemy_nor_alembic(self):
        for argv in (['--help'], ['history', '--help'], ['demo', '--help'],
                     ['--version']):
            code = ('import contextlib, io\n'
                    'from audit_alembic.cli import main\n'
                    'with contextlib.redirect_stdout(io.StringIO()):\n'
                    '    try:\n'
                    '        main(%r)\n'
                    '    except SystemExit:\n'
                    '        pass' % (argv,))
            self.assertEqual(modules_loaded_by(code), set(), argv)
