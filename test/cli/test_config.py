"""``history`` taking its database from an Alembic config file."""
import os
import tempfile

from audit_alembic.testing.fixtures import Rev
from test.cli.support import CLITestCase
from test.cli.support import parse_csv
from test.cli.support import unreachable_url

LINEAR = [Rev('A'), Rev('B', 'A'), Rev('C', 'B')]

DEPLOY_INI = '''\
[alembic]
script_location = %(here)s/migrations

[production]
sqlalchemy.url = sqlite:///%(here)s/../test.db

[staging]
sqlalchemy.url = {unreachable}

[typo]
sqlalchemy.url = postgresql+psycopg://scott:sekrit@127.0.0.1:port/test

[percent]
sqlalchemy.url = postgresql+psycopg://scott:sekrit%40home@127.0.0.1:1/test
'''


class ConfigFileTest(CLITestCase):
    def setUp(self):
        self.db = self.audited_database(LINEAR, sqlite_file=True)
        self.db.run('upgrade', 'head')
        os.mkdir(os.path.join(self.db.directory, 'conf'))
        with open(os.path.join(self.db.directory, 'conf', 'deploy.ini'),
                  'w') as f:
            f.write(DEPLOY_INI.replace('{unreachable}', unreachable_url() or
                                       'nosuchdb://scott:sekrit@host:1/test'))

    def history(self, *args):
        return ['history', '--format', 'csv'] + list(args)

    def test_alembic_ini_of_the_current_directory(self):
        result = self.main(*self.history(), cwd=self.db.env.directory)
        rows = parse_csv(self.assertSucceeds(result))
        self.assertEqual([row[1] for row in rows[1:]], ['A', 'B', 'C'])

    def test_config_file_and_section(self):
        named, default_section, missing_section = self.main_many(
            self.history('-c', 'conf/deploy.ini', '-n', 'production'),
            self.history('--config', 'conf/deploy.ini'),
            self.history('-c', 'conf/deploy.ini', '--name', 'nosuch'),
            cwd=self.db.directory)
        rows = parse_csv(self.assertSucceeds(named))
        self.assertEqual([row[1] for row in rows[1:]], ['A', 'B', 'C'])
        self.assertFails(default_section, 'deploy.ini', 'sqlalchemy.url',
                         '[alembic]', '--url')
        self.assertFails(missing_section, 'deploy.ini', '[nosuch]')

    def test_passwords_in_config_files_stay_hidden(self):
        unreachable, malformed, interpolation = self.main_many(*[
            self.history('-c', 'conf/deploy.ini', '-n', section)
            for section in ('staging', 'typo', 'percent')],
            cwd=self.db.directory)
        self.assertFails(unreachable, 'scott:***@', hidden=['sekrit'])
        if unreachable_url():
            self.assertIn('cannot connect to', unreachable.stderr)
        self.assertFails(malformed, 'malformed URL', 'deploy.ini',
                         hidden=['sekrit'])
        self.assertFails(interpolation, 'deploy.ini', 'sqlalchemy.url',
                         hidden=['sekrit', '40home'])

    def test_malformed_config_files(self):
        with tempfile.TemporaryDirectory() as directory:
            for name, text in (('headless.ini', 'sqlalchemy.url = x\n'),
                               ('broken.ini', '[alembic\nfoo\n'),
                               ('twice.ini', '[alembic]\na = 1\na = 2\n')):
                with open(os.path.join(directory, name), 'w') as f:
                    f.write(text)
            headless, broken, twice = self.main_many(
                *[self.history('-c', name) for name in (
                    'headless.ini', 'broken.ini', 'twice.ini')],
                cwd=directory)
        self.assertFails(headless, 'headless.ini', 'line 1',
                         'no [section] header')
        self.assertFails(broken, 'broken.ini', 'line 1')
        self.assertFails(twice, 'twice.ini', 'line 3', "'a'")

    def test_missing_config_file(self):
        with tempfile.TemporaryDirectory() as empty:
            default, named = self.main_many(
                ['history'], ['history', '-c', 'nope.ini'], cwd=empty)
        self.assertFails(default, './alembic.ini', '--url')
        self.assertFails(named, 'nope.ini')
