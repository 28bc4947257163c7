"""``audit-alembic drift`` and ``status``'s schema line, on projects
migrated by real Alembic runs with ``Auditor.create(details=True)`` and
schemas changed by hand between them."""
import json

from sqlalchemy import text

from audit_alembic import Auditor
from audit_alembic.values import DRIFT
from test.audit.graphs import LINEAR
from test.cli.support import CLITestCase
from test.cli.support import unreachable_url

HAND_TABLE = 'aa_hand_made'
INDEX = 'ix_scratch_a_note'


class SchemaDriftMixin:
    """A details=True project and the hand changes the tests make."""

    def details_database(self, revisions=LINEAR, **kw):
        return self.audited_database(
            revisions, auditor=Auditor.create('1.0', details=True), **kw)

    def sql(self, db, *statements):
        with db.engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))

    def add_column(self, db):
        self.sql(db, 'ALTER TABLE scratch_a ADD COLUMN note VARCHAR(20)')

    def create_index(self, db):
        self.sql(db, 'CREATE INDEX %s ON scratch_a (note)' % INDEX)

    def drop_index(self, db):
        on = ' ON scratch_a' if self.dialect_name in ('mysql',
                                                      'mariadb') else ''
        self.sql(db, 'DROP INDEX %s%s' % (INDEX, on))

    def make_not_null(self, db):
        """Make scratch_a.note NOT NULL; on SQLite, which cannot, add a
        table instead.  The change :meth:`expected_change` names."""
        if self.dialect_name == 'sqlite':
            db.env.own(HAND_TABLE)
            self.sql(db, 'CREATE TABLE %s (id INTEGER PRIMARY KEY)'
                     % HAND_TABLE)
        elif self.dialect_name == 'postgresql':
            self.sql(db, 'ALTER TABLE scratch_a ALTER COLUMN note SET NOT '
                         'NULL')
        else:
            self.sql(db, 'ALTER TABLE scratch_a MODIFY note VARCHAR(20) NOT '
                         'NULL')

    def expected_change(self):
        if self.dialect_name == 'sqlite':
            return '+table %s (id)' % HAND_TABLE
        return '~column scratch_a.note: nullable true -> false'

    def drift(self, db, *args):
        return self.main('drift', '-c', db.env.ini_path, *args)

    def drift_json(self, db, *args, status=0):
        result = self.drift(db, '--format', 'json', *args)
        self.assertEqual(result.returncode, status, result)
        return json.loads(result.stdout)


class DriftCommandTest(SchemaDriftMixin, CLITestCase):
    __backend__ = True

    def test_no_snapshot_yet(self):
        db = self.details_database()
        db.run('upgrade', 'A')
        self.sql(db, 'UPDATE alembic_version_history SET schema_hash = NULL')
        message = self.assertFails(self.drift(db), 'no schema snapshot '
                                   'recorded yet', 'alembic upgrade',
                                   'Auditor.create(details=True)')
        self.assertIn('shipped env.py', message)
        self.assertEqual(self.drift(db, '--format', 'json').stdout, '')

    def test_a_table_without_details(self):
        db = self.audited_database(LINEAR)
        db.run('upgrade', 'A')
        self.assertFails(self.drift(db), 'no schema_hash column',
                         'details=True')

    def test_no_history_table(self):
        db = self.details_database()
        self.assertFails(self.drift(db), 'no table alembic_version_history')

    def test_clean(self):
        db = self.details_database()
        db.run('upgrade', 'head')
        rows = db.rows()
        out = self.assertSucceeds(self.drift(db))
        self.assertEqual(out, 'schema matches the snapshot of run %s (row '
                              '%s, %s UTC)\n' % (
                                  rows[-1]['run_id'][:8], rows[-1]['id'],
                                  rows[-1]['changed_at'].strftime(
                                      '%Y-%m-%d %H:%M:%S')))
        document = self.drift_json(db)
        self.assertEqual(document['drift'], False)
        self.assertEqual(document['changes'], [])
        self.assertEqual(document['schema_hash'], rows[-1]['schema_hash'])
        self.assertEqual(document['baseline']['row_id'], rows[-1]['id'])
        self.assertEqual(document['baseline']['run_id'], rows[-1]['run_id'])
        self.assertEqual(document['baseline']['stale'], False)
        self.assertTrue(document['baseline']['changed_at'].endswith(
            '+00:00'))

    def test_added_column_and_index(self):
        db = self.details_database()
        db.run('upgrade', 'head')
        self.add_column(db)
        self.create_index(db)
        result = self.drift(db)
        self.assertFindings(result, 'schema drift: 2 changes since the '
                                    'snapshot of run')
        lines = result.stdout.splitlines()
        self.assertTrue(lines[0].startswith('schema DRIFT since the '
                                            'snapshot of run'), lines)
        self.assertEqual(lines[1:], [
            '  +column scratch_a.note VARCHAR(20)',
            '  +index scratch_a.%s (note)' % INDEX])
        document = self.drift_json(db, status=1)
        self.assertTrue(document['drift'])
        self.assertNotEqual(document['schema_hash'],
                            document['baseline']['schema_hash'])
        column, index = document['changes']
        self.assertEqual(
            {key: column[key] for key in ('action', 'kind', 'table', 'name',
                                          'old', 'text')},
            {'action': '+', 'kind': 'column', 'table': 'scratch_a',
             'name': 'note', 'old': None,
             'text': '+column scratch_a.note VARCHAR(20)'})
        self.assertEqual(column['new']['nullable'], True)
        self.assertEqual((index['action'], index['kind'], index['name'],
                          index['new']['columns']),
                         ('+', 'index', INDEX, ['note']))

    def test_dropped_index_and_nullability(self):
        db = self.details_database()
        db.run('upgrade', 'A')
        self.add_column(db)
        self.create_index(db)
        with self.assertLogs('audit_alembic.auditor', 'WARNING'):
            db.run('upgrade', 'B')  # records the drift, then a snapshot
        self.assertSucceeds(self.drift(db))
        self.drop_index(db)
        self.make_not_null(db)
        result = self.drift(db)
        self.assertFindings(result, 'schema drift: 2 changes')
        self.assertIn('  -index scratch_a.%s (note)\n' % INDEX,
                      result.stdout)
        self.assertIn('  %s\n' % self.expected_change(), result.stdout)
        changes = self.drift_json(db, status=1)['changes']
        self.assertEqual(sorted((c['action'], c['kind']) for c in changes),
                         sorted([('-', 'index'), ('+', 'table')
                                 if self.dialect_name == 'sqlite'
                                 else ('~', 'column')]))
        if self.dialect_name != 'sqlite':
            change, = [c for c in changes if c['kind'] == 'column']
            self.assertEqual((change['old']['nullable'],
                              change['new']['nullable']), (True, False))

    def test_the_next_upgrade_records_the_drift(self):
        db = self.details_database()
        db.run('upgrade', 'A')
        first_run = db.rows()[0]['run_id']
        self.add_column(db)
        with self.assertLogs('audit_alembic.auditor', 'WARNING'):
            db.run('upgrade', 'head')  # records the drift
        self.assertSucceeds(self.drift(db))
        rows = db.rows()
        drift_row, = [row for row in rows if row['status'] == DRIFT]
        self.assertEqual(drift_row['message'], '+column scratch_a.note')

        result = self.drift(db, '--since', first_run[:8])
        self.assertFindings(result, '1 drift row recorded since run %s'
                            % first_run)
        self.assertEqual(result.stdout, (
            '1 drift row recorded since run %s (row %s):\n\n'
            'row %s: drift recorded by run %s (row %s, %s UTC)\n'
            '  since the snapshot of run %s (row %s, %s UTC)\n'
            '    +column scratch_a.note VARCHAR(20)\n') % (
                first_run, rows[0]['id'], drift_row['id'],
                drift_row['run_id'][:8], drift_row['id'],
                drift_row['changed_at'].strftime('%Y-%m-%d %H:%M:%S'),
                first_run[:8], rows[0]['id'],
                rows[0]['changed_at'].strftime('%Y-%m-%d %H:%M:%S')))

        document = self.drift_json(db, '--since', '2000-01-01', status=1)
        self.assertTrue(document['drift'])
        self.assertEqual(document['since'], '2000-01-01 00:00:00 UTC')
        row, = document['rows']
        self.assertEqual((row['row_id'], row['run_id'], row['schema_hash'],
                          row['message']),
                         (drift_row['id'], drift_row['run_id'],
                          drift_row['schema_hash'], '+column scratch_a.note'))
        self.assertEqual((row['before']['row_id'], row['before']['run_id'],
                          row['before']['schema_hash']),
                         (rows[0]['id'], first_run, rows[0]['schema_hash']))
        self.assertEqual([c['text'] for c in row['changes']],
                         ['+column scratch_a.note VARCHAR(20)'])
        self.assertIsNone(row['problem'])

        # Nothing since a later run.
        db.run('downgrade', 'A')
        later = self.drift_json(db, '--since', db.rows()[-1]['run_id'][:8])
        self.assertEqual((later['drift'], later['rows']), (False, []))
        self.assertEqual(self.assertSucceeds(self.drift(
            db, '--since', '9999-01-01')),
            '0 drift rows recorded since 9999-01-01 00:00:00 UTC\n')

    def test_since_a_run_not_recorded(self):
        db = self.details_database()
        db.run('upgrade', 'A')
        self.assertFails(self.drift(db, '--since', 'abcdef0'),
                         "no run 'abcdef0'")
        self.assertUsageError(self.drift(db, '--since', 'yesterday'),
                              'expected a run id or its start, or an '
                              'ISO-8601 date')

    def test_steps_after_the_snapshot_without_one(self):
        db = self.details_database()
        db.run('upgrade', 'A')
        db.run('upgrade', 'B')
        # As an offline script's row: no hash.
        self.sql(db, 'UPDATE alembic_version_history SET schema_hash = NULL '
                     'WHERE id = %d' % db.rows()[-1]['id'])
        self.assertIsNone(db.rows()[-1]['schema_hash'])
        result = self.drift(db)
        self.assertFails(result, 'cannot tell drift', 'steps were recorded '
                                 'after it without one')
        self.assertTrue(result.stdout.startswith('schema differs from'),
                        result.stdout)
        self.assertIn('+table scratch_b (id)', result.stdout)
        self.assertIn('note: steps were recorded after the last snapshot',
                      result.stdout)
        document = self.drift_json(db, status=2)
        self.assertIsNone(document['drift'])
        self.assertTrue(document['baseline']['stale'])


class StatusSchemaLineTest(SchemaDriftMixin, CLITestCase):
    __backend__ = True

    def status(self, db, *args):
        return self.main('status', '-c', db.env.ini_path, *args)

    def schema_line(self, db):
        out = self.assertSucceeds(self.status(db))
        return out.splitlines()[-1]

    def test_matches_then_drift(self):
        db = self.details_database()
        db.run('upgrade', 'A')
        row = db.rows()[-1]
        run = 'run %s (%s)' % (row['run_id'][:8],
                               row['changed_at'].strftime('%Y-%m-%d %H:%M'))
        self.assertEqual(self.schema_line(db),
                         'schema: matches the snapshot of %s' % run)
        document = json.loads(self.assertSucceeds(
            self.status(db, '--format', 'json')))
        self.assertEqual(document['schema']['state'], 'matches')
        self.assertEqual(document['schema']['drift'], False)
        self.assertEqual(document['schema']['baseline']['row_id'], row['id'])

        self.add_column(db)
        self.create_index(db)
        self.assertEqual(self.schema_line(db),
                         'schema: DRIFT since the snapshot of %s: +column '
                         'scratch_a.note; +index scratch_a.%s' % (run, INDEX))
        document = json.loads(self.assertSucceeds(
            self.status(db, '--format', 'json')))
        schema = document['schema']
        self.assertEqual((schema['state'], schema['drift']), ('drift', True))
        self.assertEqual([c['text'] for c in schema['changes']], [
            '+column scratch_a.note VARCHAR(20)',
            '+index scratch_a.%s (note)' % INDEX])
        self.assertTrue(schema['text'].startswith('DRIFT since'))

    def test_no_snapshot_yet(self):
        db = self.details_database()
        db.run('upgrade', 'A')
        self.sql(db, 'UPDATE alembic_version_history SET schema_hash = NULL')
        self.assertEqual(self.schema_line(db), 'schema: no snapshot yet')
        schema = json.loads(self.assertSucceeds(
            self.status(db, '--format', 'json')))['schema']
        self.assertEqual((schema['state'], schema['drift'],
                          schema['baseline']), ('no snapshot', None, None))

    def test_no_line_without_details(self):
        db = self.audited_database(LINEAR)
        db.run('upgrade', 'A')
        self.assertTrue(self.assertSucceeds(self.status(db)).endswith(
            'pending: B, C\n'))
        self.assertNotIn('schema', json.loads(self.assertSucceeds(
            self.status(db, '--format', 'json'))))


class DriftErrorsTest(CLITestCase):
    def test_unreachable_database(self):
        url = unreachable_url()
        if url is None:
            self.skipTest('needs psycopg or pymysql')
        self.assertFails(self.main('drift', '--url', url),
                         'cannot connect to', hidden=['sekrit'])


class SnapshotRowTimeAsTextTest(SchemaDriftMixin, CLITestCase):
    """SQLite keeps any text in a DATETIME column: where the last row
    naming a snapshot holds some, the commands that read the snapshot
    show it as stored (verify finding the edit), and the next deploy
    goes on."""

    def test_commands_and_the_next_deploy(self):
        db = self.details_database(sqlite_file=True)
        db.run('upgrade', 'B')
        self.sql(db, "UPDATE alembic_version_history SET changed_at = "
                     "'not a date' WHERE schema_hash IS NOT NULL")
        for command, status in (('status', 0), ('drift', 0),
                                ('verify', 1), ('report', 0)):
            with self.subTest(command=command):
                result = self.main(command, '-c', db.env.ini_path,
                                   cwd=db.env.directory)
                self.assertNotIn('Traceback', result.stderr)
                self.assertEqual(result.returncode, status,
                                 (result.stdout, result.stderr))
        status = json.loads(self.assertSucceeds(self.main(
            'status', '-c', db.env.ini_path, '--format', 'json')))
        self.assertEqual(status['schema']['baseline']['changed_at'],
                         'not a date')
        with self.assertNoLogs(level='WARNING'):
            db.run('upgrade', 'head')
        self.assertEqual(db.env.heads(), {'C'})
