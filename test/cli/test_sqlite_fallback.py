"""A Python built without sqlite3: pysqlite3 stands in, or we say what to
install."""
import importlib.util
import os
import unittest

from audit_alembic import paths
from audit_alembic.testing.fixtures import Rev
from test.cli.support import CLITestCase
from test.cli.support import child_environment

NO_SQLITE3 = os.path.join(paths.PACKAGE_ROOT, 'tools', 'no_sqlite3')


def without_sqlite3(hide_pysqlite3=False, **variables):
    """The environment of a child whose Python has no sqlite3 module."""
    env = child_environment(**variables)
    env['PYTHONPATH'] = os.pathsep.join([NO_SQLITE3, env['PYTHONPATH']])
    if hide_pysqlite3:
        env['AUDIT_ALEMBIC_HIDE_PYSQLITE3'] = '1'
    return env


class SqliteFallbackTest(CLITestCase):
    def test_names_the_package_to_install(self):
        db = self.audited_database([Rev('A')], sqlite_file=True)
        db.run('upgrade', 'head')
        result = self.cli('history', '--url', db.url_text,
                          env=without_sqlite3(hide_pysqlite3=True))
        self.assertFails(result, "pip install 'pysqlite3-binary'")
        demo = self.cli('demo', env=without_sqlite3(hide_pysqlite3=True))
        self.assertFails(demo, "pip install 'pysqlite3-binary'")

    @unittest.skipUnless(importlib.util.find_spec('pysqlite3'),
                         'pysqlite3-binary is not installed')
    def test_history_and_demo_run_on_pysqlite3(self):
        db = self.audited_database([Rev('A')], sqlite_file=True)
        db.run('upgrade', 'head')
        history = self.cli('history', '--url', db.url_text, '--format',
                           'csv', env=without_sqlite3())
        self.assertIn('A,,migration,up', self.assertSucceeds(history))
        demo = self.cli('demo', env=without_sqlite3())
        self.assertIn('$ audit-alembic history', self.assertSucceeds(demo))
