"""history, status and verify on a table whose every name is its own."""
import json

from audit_alembic import Auditor
from test.audit.graphs import BRANCHY
from test.cli.support import CLITestCase
from test.cli.support import parse_csv

NAMES = dict(
    table_name='schema_history',
    alembic_version_column_name='rev_to',
    prev_alembic_version_column_name='rev_from',
    operation_column_name='kind',
    direction_column_name='way',
    user_version_column_name='app_version',
    change_time_column_name='applied_at',
    alembic_version_separator='+',
)
OPTIONS = ['--table', 'schema_history', '--separator', '+',
           '--column', 'alembic_version=rev_to',
           '--column', 'prev_alembic_version=rev_from',
           '--column', 'operation_type=kind',
           '--column', 'operation_direction=way',
           '--column', 'user_version=app_version',
           '--column', 'changed_at=applied_at']


class CustomTableTest(CLITestCase):
    __backend__ = True

    def setUp(self):
        self.db = self.audited_database(
            BRANCHY, auditor=Auditor.create('app 3', details=True, **NAMES))
        for command in (('upgrade', 'F'), ('downgrade', 'E0'),
                        ('upgrade', 'G')):
            self.db.run(*command)

    def configure(self):
        """Name the table in the project's alembic.ini."""
        with open(self.db.env.ini_path, 'a') as f:
            f.write('\n[audit_alembic]\n')
            for key, value in NAMES.items():
                f.write('%s = %s\n' % (key, value))

    def commands(self, *extra):
        ini = ['-c', self.db.env.ini_path]
        return {
            'history': self.main('history', *(ini + list(extra) + [
                '--format', 'csv', '--revision', 'E0'])),
            'status': self.main('status', *(ini + list(extra) + [
                '--format', 'json'])),
            'verify': self.main('verify', *(ini + list(extra))),
        }

    def check(self, results):
        rows = parse_csv(self.assertSucceeds(results['history']))
        header, rows = rows[0], rows[1:]
        self.assertEqual(header[:4], ['id', 'rev_to', 'rev_from', 'kind'])
        recorded = [row for row in self.db.rows('schema_history')
                    if 'E0' in row['rev_to'].split('+') or
                    'E0' in row['rev_from'].split('+')]
        self.assertEqual([row[1:3] for row in rows],
                         [[r['rev_to'], r['rev_from']] for r in recorded])
        self.assertIn(['F', 'E+E0'], [row[1:3] for row in rows])
        status = json.loads(self.assertSucceeds(results['status']))
        by_id = {row['revision']: row for row in status['revisions']}
        self.assertEqual(by_id['F']['user_version'], 'app 3')
        self.assertEqual(by_id['F']['state'], 'applied')
        report = self.assertSucceeds(results['verify'])
        self.assertIn('ok       replay', report)
        # The chain covers the renamed columns by the roles they play.
        self.assertIn('ok       chain', report)

    def test_names_from_the_config_file(self):
        self.configure()
        self.check(self.commands())

    def test_names_from_options(self):
        self.check(self.commands(*OPTIONS))

    def test_a_name_that_does_not_match_says_which(self):
        self.configure()
        result = self.main('history', '-c', self.db.env.ini_path,
                           '--column', 'changed_at=when_applied',
                           '--since', '2020-01-01')
        self.assertFails(result, '--since needs column when_applied, which '
                                 'table schema_history lacks (named by '
                                 '--column changed_at=when_applied)')
        with open(self.db.env.ini_path, 'a') as f:
            f.write('colour = blue\n')
        self.assertFails(self.main('history', '-c', self.db.env.ini_path),
                         'unknown option colour in the [audit_alembic] '
                         'section')

    def test_default_names_do_not_fit_and_say_so(self):
        result = self.main('verify', '-c', self.db.env.ini_path, '--table',
                           'schema_history')
        self.assertFails(result, 'table schema_history lacks columns '
                                 'prev_alembic_version, alembic_version, '
                                 'operation_type')


class ColumnOptionTest(CLITestCase):
    def test_bad_column_option_is_a_usage_error(self):
        self.assertUsageError(self.main('history', '--column', 'when=x'),
                              'expected ROLE=NAME')
