"""``audit-alembic demo``: a scratch project, Alembic runs, the history."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

from sqlalchemy import create_engine
from sqlalchemy import inspect

from audit_alembic import paths
from audit_alembic.testing.fixtures import Rev
from test.cli.support import CLITestCase
from test.cli.support import child_environment
from test.cli.support import parse_table
from test.cli.support import url_text

COMMANDS = ['$ alembic upgrade head', '$ alembic upgrade head',
            '$ alembic downgrade -1', '$ alembic stamp head',
            '$ audit-alembic history', '$ audit-alembic status',
            '$ audit-alembic verify']
HISTORY = COMMANDS.index('$ audit-alembic history')
#: direction, kind, "from -> to" and status of the rows the demo leaves
#: where each step commits by itself (SQLite, MariaDB).
STEPS = [
    ['up', 'migration', '<base> \u2192 1975ea83b712', 'ok'],
    ['up', 'migration', '1975ea83b712 \u2192 ae1027a6acf', 'ok'],
    ['up', 'migration', 'ae1027a6acf \u2192 27c6a30d7c24', 'failed'],
    ['up', 'migration', 'ae1027a6acf \u2192 27c6a30d7c24', 'ok'],
    ['down', 'migration', '27c6a30d7c24 \u2192 ae1027a6acf', 'ok'],
    ['up', 'stamp', 'ae1027a6acf \u2192 27c6a30d7c24', 'ok'],
]
#: Where the first upgrade is one transaction (PostgreSQL), its first
#: two steps are undone with the third.
ONE_TRANSACTION_STEPS = [
    ['up', 'migration', '<base> \u2192 27c6a30d7c24', 'failed'],
    ['up', 'migration', '<base> \u2192 1975ea83b712', 'ok'],
    ['up', 'migration', '1975ea83b712 \u2192 ae1027a6acf', 'ok'],
] + STEPS[3:]
DEMO_TABLES = {'demo_account', 'demo_invoice', 'alembic_version',
               'alembic_version_history'}


class DemoOutputMixin:
    def assertDemoOutput(self, text, steps=STEPS):
        """The commands in order, then the history table; returns the
        table's rows."""
        positions = []
        for command in COMMANDS:
            start = positions[-1] + 1 if positions else 0
            positions.append(text.find(command + '\n', start))
        self.assertNotIn(-1, positions, text)
        first_try = text[positions[0]:positions[1]]
        self.assertIn('RuntimeError: the first try of this step fails, on '
                      'purpose\n', first_try)
        self.assertRegex(first_try, r'\[\d+ lines of traceback\]\n')
        self.assertNotIn('File "', first_try)
        table = text[positions[HISTORY]:].split('\n', 1)[1].split('\n\n')[0]
        headers, rows = parse_table(table)
        self.assertEqual(headers[2:11], [
            'direction', 'kind', 'from \u2192 to', 'user version', 'status',
            'run', 'took', 'by', 'error'])
        self.assertEqual([row[2:5] + row[6:7] for row in rows], steps)
        self.assertEqual({row[5] for row in rows}, {'myapp 1.0'})
        self.assertEqual([row[10] for row in rows if row[6] == 'failed'],
                         ['RuntimeError: the first try of this step fails, on '
                          'purpose'])
        status = text.split('$ audit-alembic status\n', 1)[1]
        status = status.split('\n$ audit-alembic verify\n')
        self.assertEqual(
            [line.split()[-1] for line in status[0].splitlines()[2:5]],
            ['table', 'column', 'table'])
        self.assertIn('  stamped  ', status[0].splitlines()[4])
        self.assertIn('database at: 27c6a30d7c24\npending: none\n',
                      status[0])
        self.assertTrue(status[1].startswith('ok       replay'), status[1])
        return rows


class DemoTest(DemoOutputMixin, CLITestCase):
    def setUp(self):
        self.directory = tempfile.mkdtemp(prefix='audit_alembic_demo_test_')
        self.addCleanup(shutil.rmtree, self.directory, True)

    def test_scratch_project_is_removed(self):
        tmp = os.path.join(self.directory, 'tmp')
        os.mkdir(tmp)
        result = self.cli('demo', env=child_environment(TMPDIR=tmp))
        text = self.assertSucceeds(result)
        self.assertDemoOutput(text)
        project = re.search(r'project in (\S+):', text).group(1)
        self.assertTrue(project.startswith(tmp), project)
        self.assertIn('Removed the scratch project', text)
        self.assertEqual(os.listdir(tmp), [])

    def test_keep(self):
        kept = os.path.join(self.directory, 'kept')
        text = self.assertSucceeds(self.cli('demo', '--keep', kept))
        self.assertDemoOutput(text)
        self.assertIn('cd %s && alembic history' % kept, text)
        self.assertTrue(os.path.isfile(os.path.join(kept, 'alembic.ini')))
        with open(os.path.join(kept, 'migrations', 'env.py')) as f:
            self.assertEqual(f.read(), paths.read_env_py_template())

        def alembic(*args):
            result = subprocess.run(
                [sys.executable, '-m', 'alembic', '-c',
                 os.path.join(kept, 'alembic.ini')] + list(args),
                cwd=self.directory, env=child_environment(),
                capture_output=True, text=True, timeout=120)
            self.assertEqual(result.returncode, 0, result.stderr)
            return result.stdout
        self.assertEqual(alembic('current').strip(), '27c6a30d7c24 (head)')
        # The stamp the output suggests lets the user go on from there.
        stamp = re.search(r'"alembic (stamp \w+)"', text).group(1)
        alembic(*stamp.split())
        alembic('downgrade', 'base')

    def test_keep_refuses_a_directory_in_use(self):
        with open(os.path.join(self.directory, 'precious.txt'), 'w'):
            pass
        self.assertFails(self.cli('demo', '--keep', self.directory),
                         '--keep', 'not empty')
        self.assertEqual(os.listdir(self.directory), ['precious.txt'])


class DemoDatabaseTest(DemoOutputMixin, CLITestCase):
    __backend__ = True

    def test_url(self):
        url = self.file_database_url()
        new_file = url.get_backend_name() == 'sqlite' and \
            not os.path.exists(url.database)
        text = self.assertSucceeds(self.cli('demo', '--url', url_text(url)))
        self.assertDemoOutput(text, ONE_TRANSACTION_STEPS
                              if url.get_backend_name() == 'postgresql'
                              else STEPS)
        if url.password:
            self.assertNotIn(url.password, text)
        if new_file:
            self.assertFalse(os.path.exists(url.database))
            return
        engine = create_engine(url)
        self.addCleanup(engine.dispose)
        self.assertFalse(DEMO_TABLES & set(inspect(engine).get_table_names()))

    def test_url_refuses_a_database_with_its_tables(self):
        db = self.audited_database([Rev('A')])
        db.run('upgrade', 'head')
        self.assertFails(self.cli('demo', '--url', db.url_text),
                         'alembic_version',
                         hidden=[p for p in [db.url.password] if p])
        self.assertEqual(len(db.rows()), 1)
        self.assertEqual(db.env.heads(), {'A'})
