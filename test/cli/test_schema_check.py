"""``verify``'s schema check, and ``drift``, ``status`` and ``verify``
reading only, down to a role that may only SELECT."""
import json
import os
import secrets

from sqlalchemy import create_engine
from sqlalchemy.exc import DBAPIError

from audit_alembic.testing import provision
from test.audit.graphs import LINEAR
from test.cli.support import CLITestCase
from test.cli.support import url_text
from test.cli.test_drift_command import INDEX
from test.cli.test_drift_command import SchemaDriftMixin

SUPERUSERS = {
    'postgresql': 'postgresql+psycopg://postgres@127.0.0.1:5432/postgres',
    'mysql': 'mysql+pymysql://root@127.0.0.1:3306/mysql',
}


class SchemaCheckTest(SchemaDriftMixin, CLITestCase):
    __backend__ = True

    def verify(self, db, *args):
        return self.main('verify', '-c', db.env.ini_path, *args)

    def schema_check(self, db, status=0):
        result = self.verify(db, '--format', 'json')
        self.assertEqual(result.returncode, status, result)
        checks = {c['check']: c for c in json.loads(result.stdout)['checks']}
        return checks['schema']

    def test_clean(self):
        db = self.details_database()
        db.run('upgrade', 'head')
        out = self.assertSucceeds(self.verify(db))
        self.assertIn('ok       schema    the schema matches the last '
                      'recorded snapshot', out)
        check = self.schema_check(db)
        self.assertEqual((check['passed'], check['skipped'],
                          check['problems'], check['notes']),
                         (True, None, [], []))

    def test_live_drift_fails_recorded_drift_is_noted(self):
        db = self.details_database()
        db.run('upgrade', 'A')
        self.add_column(db)
        result = self.verify(db)
        self.assertFindings(result, 'verification failed: schema')
        self.assertIn('FAILED   schema', result.stdout)
        self.assertIn('- the schema differs from the snapshot of run %s'
                      % db.rows()[-1]['run_id'][:8], result.stdout)
        self.assertIn(': +column scratch_a.note\n', result.stdout)
        check = self.schema_check(db, status=1)
        problem, = check['problems']
        self.assertEqual(problem['rows'], [db.rows()[-1]['id']])

        with self.assertLogs('audit_alembic.auditor', 'WARNING'):
            db.run('upgrade', 'head')  # records the drift
        drift_row = [row for row in db.rows() if row['status'] == 'drift'][0]
        self.create_index(db)
        check = self.schema_check(db, status=1)
        self.assertIn('+index scratch_a.%s' % INDEX,
                      check['problems'][0]['message'])
        self.assertEqual(check['notes'], [
            'drift recorded by run %s (row %s, %s UTC): +column '
            'scratch_a.note' % (drift_row['run_id'][:8], drift_row['id'],
                                drift_row['changed_at'].strftime(
                                    '%Y-%m-%d %H:%M:%S'))])
        with self.assertLogs('audit_alembic.auditor', 'WARNING'):
            db.run('downgrade', 'A')  # records that drift too
        check = self.schema_check(db)
        self.assertTrue(check['passed'], check)
        self.assertEqual(len(check['notes']), 2)
        self.assertTrue(check['notes'][1].endswith(
            ': +index scratch_a.%s' % INDEX), check['notes'])
        # The other checks take drift rows in their stride.
        result = self.verify(db, '--format', 'json')
        self.assertSucceeds(result)

    def test_skipped_without_details(self):
        db = self.audited_database(LINEAR)
        db.run('upgrade', 'A')
        check = self.schema_check(db)
        self.assertIn('no schema_hash column', check['skipped'])
        self.assertIn('(Auditor.create(details=True) adds it)',
                      check['skipped'])

    def test_skipped_without_a_snapshot(self):
        db = self.details_database()
        db.run('upgrade', 'A')
        # (Which the chain check finds edited.)
        self.sql(db, 'UPDATE alembic_version_history SET schema_hash = NULL')
        result = self.verify(db)
        self.assertFindings(result, 'verification failed: chain')
        self.assertIn('skipped  schema', result.stdout)
        check = self.schema_check(db, status=1)
        self.assertIn('no schema snapshot recorded yet', check['skipped'])

    def test_stale_baseline_is_a_note(self):
        db = self.details_database()
        db.run('upgrade', 'A')
        db.run('upgrade', 'B')
        self.sql(db, 'UPDATE alembic_version_history SET schema_hash = NULL '
                     'WHERE id = %d' % db.rows()[-1]['id'])
        check = self.schema_check(db, status=1)  # the chain check fails
        self.assertEqual(check['problems'], [])
        note, = check['notes']
        self.assertIn('+table scratch_b', note)
        self.assertIn('steps were recorded after the last snapshot', note)


class ReadOnlyTest(SchemaDriftMixin, CLITestCase):
    """drift, status and verify change nothing, and need no more than
    SELECT."""

    __backend__ = True

    def commands(self, db, url):
        scripts = os.path.join(db.env.directory, 'scripts')
        return [('drift', '--url', url), ('drift', '--url', url, '--since',
                                          '2000-01-01'),
                ('drift', '--url', url, '--format', 'json'),
                ('status', '--url', url, '--script-location', scripts),
                ('status', '--url', url, '--script-location', scripts,
                 '--format', 'json'),
                ('verify', '--url', url, '--script-location', scripts)]

    def drifted(self):
        db = self.details_database()
        db.run('upgrade', 'A')
        self.add_column(db)
        with self.assertLogs('audit_alembic.auditor', 'WARNING'):
            db.run('upgrade', 'B')  # a drift row, and a snapshot
        self.create_index(db)  # live drift
        return db

    def check_commands(self, db, url):
        before = db.contents()
        results = [self.main(*args) for args in self.commands(db, url)]
        self.assertEqual(db.contents(), before)
        return results

    def assertFindsDrift(self, results):
        drift, since, as_json, status, status_json, verify = results
        self.assertFindings(drift, 'schema drift: 1 change')
        self.assertIn('+index scratch_a.%s' % INDEX, drift.stdout)
        self.assertFindings(since, '1 drift row recorded since')
        self.assertIn('+column scratch_a.note', since.stdout)
        self.assertTrue(json.loads(as_json.stdout)['drift'])
        self.assertIn('schema: DRIFT since the snapshot of run',
                      self.assertSucceeds(status))
        self.assertEqual(json.loads(self.assertSucceeds(status_json))[
            'schema']['state'], 'drift')
        self.assertFindings(verify, 'verification failed: schema')

    def test_as_the_owner(self):
        db = self.drifted()
        self.assertFindsDrift(self.check_commands(db, db.url_text))

    def test_as_a_role_that_may_only_select(self):
        if self.dialect_name == 'sqlite':
            self.skipTest('SQLite has no roles')
        db = self.drifted()
        url = self.select_only_role(db)
        role = create_engine(url)
        self.addCleanup(role.dispose)
        with role.connect() as connection:
            self.assertEqual(connection.exec_driver_sql(
                'SELECT COUNT(*) FROM alembic_version').scalar(), 1)
            with self.assertRaises(DBAPIError):  # it may only SELECT
                connection.exec_driver_sql('DELETE FROM alembic_version')
        self.assertFindsDrift(self.check_commands(db, url_text(url)))

    def select_only_role(self, db):
        """A role that may only SELECT the tables of ``db``'s database
        (dropped after the test); its URL."""
        name = 'aa_select_%s' % secrets.token_hex(4)
        password = secrets.token_hex(8)
        kind = 'postgresql' if self.dialect_name == 'postgresql' else 'mysql'
        problem = provision.login_problem(
            create_engine(SUPERUSERS[kind]).url, timeout=5)
        if problem is not None:
            self.skipTest('needs a superuser login to make a role: %s'
                          % problem)
        database = db.url.database
        admin = create_engine(SUPERUSERS[kind], isolation_level='AUTOCOMMIT')
        self.addCleanup(admin.dispose)
        if kind == 'postgresql':
            here = create_engine(admin.url.set(database=database),
                                 isolation_level='AUTOCOMMIT')
            self.addCleanup(here.dispose)
            with admin.connect() as connection:
                connection.exec_driver_sql(
                    "CREATE ROLE %s LOGIN PASSWORD '%s'" % (name, password))
            self.addCleanup(self.drop_postgresql_role, admin, here, name)
            with here.connect() as connection:
                for grant in ('CONNECT ON DATABASE "%s"' % database,
                              'USAGE ON SCHEMA public',
                              'SELECT ON ALL TABLES IN SCHEMA public'):
                    connection.exec_driver_sql('GRANT %s TO %s'
                                               % (grant, name))
        else:
            with admin.connect() as connection:
                connection.exec_driver_sql(
                    "CREATE USER '%s'@'%%%%' IDENTIFIED BY '%s'"
                    % (name, password))
                self.addCleanup(self.drop_mysql_user, admin, name)
                connection.exec_driver_sql(
                    "GRANT SELECT ON `%s`.* TO '%s'@'%%%%'" % (database, name))
        return db.url.set(username=name, password=password)

    def drop_postgresql_role(self, admin, here, name):
        with here.connect() as connection:
            connection.exec_driver_sql('DROP OWNED BY %s' % name)
        with admin.connect() as connection:
            connection.exec_driver_sql('DROP ROLE IF EXISTS %s' % name)

    def drop_mysql_user(self, admin, name):
        with admin.connect() as connection:
            connection.exec_driver_sql("DROP USER IF EXISTS '%s'@'%%%%'"
                                       % name)
