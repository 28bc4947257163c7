"""``ALEMBIC_CONFIG`` names the config file when ``-c`` does not, as for
``alembic`` itself; ``-c`` wins."""
import json
import os
import tempfile
import unittest.mock

from audit_alembic import Auditor
from test.audit.graphs import LINEAR
from test.cli.support import CLITestCase
from test.cli.support import parse_csv
from test.cli.test_custom_tables import NAMES


def alembic_config(value):
    """Run with ``ALEMBIC_CONFIG`` set to ``value`` (unset for None)."""
    environment = dict(os.environ)
    environment.pop('ALEMBIC_CONFIG', None)
    if value is not None:
        environment['ALEMBIC_CONFIG'] = value
    return unittest.mock.patch.dict(os.environ, environment, clear=True)


class AlembicConfigTest(CLITestCase):

    def setUp(self):
        super().setUp()
        self.db = self.audited_database(
            LINEAR, sqlite_file=True,
            auditor=Auditor.create('1.0', details=True))
        self.db.run('upgrade', 'head')
        # Somewhere without an alembic.ini.
        self.elsewhere = tempfile.mkdtemp(prefix='audit_alembic_cwd_')
        self.addCleanup(os.rmdir, self.elsewhere)

    def run_all(self):
        """history, status, verify and accept, without -c, elsewhere."""
        return {
            'history': self.main('history', '--format', 'csv',
                                 cwd=self.elsewhere),
            'status': self.main('status', '--format', 'json',
                                cwd=self.elsewhere),
            'verify': self.main('verify', cwd=self.elsewhere),
            'accept': self.main('accept', 'B', '--reason', 'unchanged',
                                cwd=self.elsewhere),
        }

    def test_every_command_reads_the_file_it_names(self):
        with alembic_config(None):
            for name, result in self.run_all().items():
                with self.subTest(name=name, variable=None):
                    self.assertFails(result, 'alembic.ini')
        with alembic_config(self.db.env.ini_path):
            results = self.run_all()
        rows = parse_csv(self.assertSucceeds(results['history']))
        self.assertEqual([row[1] for row in rows[1:]],
                         [row['alembic_version'] for row in self.db.rows()])
        self.assertIn('C', [row[1] for row in rows[1:]])
        status = json.loads(self.assertSucceeds(results['status']))
        self.assertEqual(status['current_heads'], ['C'])
        self.assertIn('ok       scripts', self.assertSucceeds(
            results['verify']))
        self.assertIn('nothing to accept', self.assertSucceeds(
            results['accept']))

    def test_the_scripts_with_url(self):
        # --url names the database; the file still names the scripts, as
        # ./alembic.ini would.
        with alembic_config(self.db.env.ini_path):
            result = self.main('status', '--url', self.db.url_text,
                               '--format', 'json', cwd=self.elsewhere)
        status = json.loads(self.assertSucceeds(result))
        self.assertEqual(status['script_heads'], ['C'])

    def test_the_option_wins(self):
        missing = os.path.join(self.elsewhere, 'nosuch.ini')
        with alembic_config(missing):
            named = self.main('history', '-c', self.db.env.ini_path,
                              '--format', 'csv', cwd=self.elsewhere)
            unnamed = self.main('history', cwd=self.elsewhere)
        self.assertEqual(len(parse_csv(self.assertSucceeds(named))),
                         len(self.db.rows()) + 1)
        self.assertFails(unnamed, 'nosuch.ini', 'named by ALEMBIC_CONFIG')
        # What to do about it: not --url, which reads no config at all.
        self.assertIn('unset it, or pass -c FILE', unnamed.stderr)
        self.assertNotIn('--url', unnamed.stderr)

    def test_empty_is_unset(self):
        with alembic_config(''):
            result = self.main('history', '--format', 'csv',
                               cwd=self.db.env.directory)
        self.assertEqual(len(parse_csv(self.assertSucceeds(result))),
                         len(self.db.rows()) + 1)

    def test_our_section_of_that_file(self):
        db = self.audited_database(
            LINEAR, sqlite_file=True,
            auditor=Auditor.create('app 3', details=True, **NAMES))
        db.run('upgrade', 'head')
        with open(db.env.ini_path, 'a') as f:
            f.write('\n[audit_alembic]\n')
            for key, value in NAMES.items():
                f.write('%s = %s\n' % (key, value))
        with alembic_config(db.env.ini_path):
            result = self.main('history', '--format', 'json',
                               cwd=self.elsewhere)
        objects = json.loads(self.assertSucceeds(result))
        self.assertEqual([o['rev_to'] for o in objects],
                         [[row['rev_to']] for row in db.rows(
                             'schema_history')])
        self.assertIn(['C'], [o['rev_to'] for o in objects])

    def test_help_names_it(self):
        out = self.assertSucceeds(self.main('history', '--help'))
        self.assertIn('ALEMBIC_CONFIG', ' '.join(out.split()))
