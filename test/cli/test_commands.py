"""The console script's help, version and ``python -m audit_alembic``."""
import sys

from audit_alembic import __version__
from audit_alembic.testing.fixtures import Rev
from test.cli.support import CLITestCase
from test.cli.support import finish
from test.cli.support import parse_csv
from test.cli.support import start


class InProcessTest(CLITestCase):
    def test_main_reports_usage_errors_and_failures(self):
        usage = self.main('history', '--last', '0')
        self.assertUsageError(usage, '--last')
        missing = self.main('history', '-c', 'no-such.ini')
        self.assertFails(missing, 'no Alembic config file')


class HelpTest(CLITestCase):
    def test_help_of_each_command(self):
        main, history, demo, version = self.cli_many(
            ['--help'], ['history', '--help'], ['demo', '-h'], ['--version'])
        self.assertIn('usage: audit-alembic [-h] [--version] COMMAND',
                      self.assertSucceeds(main))
        for command in ('history', 'demo'):
            self.assertIn(command, main.stdout)
        text = self.assertSucceeds(history)
        self.assertIn('usage: audit-alembic history', text)
        for option in ('--url', '--config', '--name', '--table', '--schema',
                       '--revision', '--since', '--last', '--format'):
            self.assertIn(option, text)
        text = self.assertSucceeds(demo)
        self.assertIn('usage: audit-alembic demo', text)
        for option in ('--url', '--keep'):
            self.assertIn(option, text)
        self.assertEqual(self.assertSucceeds(version),
                         'audit-alembic %s\n' % __version__)


class RunAsModuleTest(CLITestCase):
    def test_python_m_audit_alembic(self):
        db = self.audited_database([Rev('A')], sqlite_file=True)
        db.run('upgrade', 'head')
        module = [sys.executable, '-m', 'audit_alembic']
        help_result, history = [finish(start(module + args)) for args in (
            ['history', '--help'],
            ['history', '--url', db.url_text, '--format', 'csv'])]
        self.assertIn('usage: audit-alembic history',
                      self.assertSucceeds(help_result))
        rows = parse_csv(self.assertSucceeds(history))
        self.assertEqual([row[1:5] for row in rows[1:]],
                         [['A', '', 'migration', 'up']])
