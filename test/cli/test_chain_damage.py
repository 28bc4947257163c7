"""The chain against damage: odd stored values never stop a deploy, and
unchained rows are vouched for by the next online run, so that one
forged between chained rows is caught."""
import datetime
import json

from sqlalchemy import MetaData
from sqlalchemy import Table
from sqlalchemy import text

from audit_alembic.testing.fixtures import Rev
from test.cli.test_chain import HISTORY
from test.cli.test_chain import ChainTestBase
from test.cli.test_chain import with_key

FOUR = [Rev('A'), Rev('B', 'A'), Rev('C', 'B'), Rev('D', 'C')]


class DamagedChainTestBase(ChainTestBase):

    def verify(self, db, *args):
        """The JSON report of verify (check name -> its dict) and the exit
        status."""
        result = self.main('verify', '-c', db.env.ini_path, '--format',
                           'json', *args)
        self.assertNotIn('Traceback', result.stderr)
        document = json.loads(result.stdout)
        return ({check['check']: check for check in document['checks']},
                result.returncode)

    def ids(self, db):
        return [row['id'] for row in db.rows()]


class OddStoredValuesTest(DamagedChainTestBase):
    """Whatever the last rows hold, the next deploy links to them as
    stored and succeeds; verify names the damaged row only."""

    def deploy_after(self, *statements):
        db = self.details_database(FOUR)
        db.run('upgrade', 'B')
        last = self.ids(db)[-1]
        self.execute(db, *[statement % {'table': HISTORY, 'id': last}
                           for statement in statements])
        db.run('upgrade', 'head')  # must not fail
        self.assertEqual(db.env.heads(), {'D'})
        with db.engine.connect() as connection:
            rows = connection.execute(text(
                'SELECT alembic_version, row_hash FROM %s ORDER BY id'
                % HISTORY)).all()
        self.assertEqual([row[0] for row in rows], list('ABCD'))
        self.assertTrue(all(row[1] for row in rows[2:]))
        report, code = self.verify(db)
        self.assertEqual(code, 1)
        self.assertEqual(self.broken_rows(report), [[last]])
        return db

    def test_non_ascii_hash(self):
        self.deploy_after(
            "UPDATE %(table)s SET row_hash = 'h\u00e9' WHERE id = %(id)d")

    def test_long_hash(self):
        if self.dialect_name != 'sqlite':
            self.skipTest('only SQLite stores more than the column holds')
        self.deploy_after("UPDATE %(table)s SET row_hash = '" + 'x' * 1000 +
                          "' WHERE id = %(id)d")

    def test_binary_hash(self):
        if self.dialect_name != 'sqlite':
            self.skipTest('only SQLite stores bytes in a text column')
        self.deploy_after(
            "UPDATE %(table)s SET row_hash = X'00FFC3' WHERE id = %(id)d")

    def test_odd_values_in_a_row_without_hash(self):
        # The last row's hash cleared and its values made odd: the next
        # writer folds them in as stored; verify reads them the same way.
        odd_time = ("changed_at = 'not a date', "
                    if self.dialect_name == 'sqlite' else '')
        db = self.deploy_after(
            "UPDATE %(table)s SET row_hash = NULL, " + odd_time +
            "user_version = 'v\u00e9\u2603', "
            "message = '" + 'm' * 200 + "' WHERE id = %(id)d")
        report, _ = self.verify(db)
        self.assertIn('its hash was removed',
                      report['chain']['problems'][0]['message'])


class VouchedRowsTest(DamagedChainTestBase):
    """Unchained rows between chained ones must be covered by the next
    chained row's hash."""

    def offline_row(self, db, revision, previous, row_id=None):
        """Insert a row as an offline script writes it (no hash, host,
        user or duration), with id ``row_id`` if given; return its id."""
        table = Table(HISTORY, MetaData(), autoload_with=db.engine)
        given = {} if row_id is None else {'id': row_id}
        with db.engine.begin() as connection:
            return connection.execute(table.insert().values(
                alembic_version=revision,
                prev_alembic_version=previous, operation_type='migration',
                operation_direction='up', user_version='1.0',
                changed_at=datetime.datetime(2026, 1, 1), status='ok',
                run_id='forged', **given)).inserted_primary_key[0]

    def test_row_inserted_by_shifting_ids_is_caught(self):
        db = self.details_database(FOUR)
        db.run('upgrade', 'head')
        ids = self.ids(db)
        # Make room before the third row, as ids are not hashed.
        self.execute(
            db, 'UPDATE %s SET id = id + 1000 WHERE id >= %d'
            % (HISTORY, ids[2]),
            'UPDATE %s SET id = id - 999 WHERE id >= 1000' % HISTORY)
        self.offline_row(db, 'B', 'B', row_id=ids[2])
        report, code = self.verify(db)
        self.assertEqual(code, 1)
        problem, = report['chain']['problems']
        self.assertEqual(problem['rows'], [ids[2]])
        self.assertIn('row %d has no hash, and row %d, the next chained row, '
                      'was written without it' % (ids[2], ids[2] + 1),
                      problem['message'])

    def test_row_appended_then_vouched_for(self):
        # Key or no key: noted until the next online run vouches for it,
        # a failure under --strict meanwhile.
        for key, description in ((None, 'SHA-256'),
                                 ('s3cret key', 'HMAC-SHA-256')):
            with self.subTest(key=key), with_key(key):
                self.appended_then_vouched_for(description)

    def appended_then_vouched_for(self, description):
        db = self.details_database(FOUR)
        self.addCleanup(db.close)
        db.run('upgrade', 'B')
        forged = self.offline_row(db, 'B', 'B')
        report, code = self.verify(db)
        self.assertEqual(code, 0, report['chain'])
        self.assertIn('1 row is unchained after the last chained row',
                      report['chain']['notes'][0])
        report, code = self.verify(db, '--strict')
        self.assertEqual(code, 1)
        self.assertEqual(self.broken_rows(report), [[forged]])
        # The next online run covers it with its hash.
        db.run('upgrade', 'head')
        report, code = self.verify(db, '--strict')
        self.assertEqual(code, 0, report)
        self.assertIn('(%s' % description, report['chain']['description'])
        self.assertIn('1 row is unchained (written by offline scripts), '
                      'each covered by the hash of the next chained row: '
                      '%d' % forged, report['chain']['notes'])
        # Then edited: the row after it no longer checks.
        self.execute(db, "UPDATE %s SET user_version = 'evil' WHERE id = %d"
                     % (HISTORY, forged))
        report, _ = self.verify(db)
        self.assertEqual(self.broken_rows(report),
                         [[self.ids(db)[self.ids(db).index(forged) + 1]]])
        db.close()


class UndecodableTextTest(DamagedChainTestBase):
    """Text SQLite cannot decode in the last row: the next deploy starts
    a new chain with one WARNING, and the commands read the row as
    stored, verify naming the row whose hash does not follow."""

    def setUp(self):
        super().setUp()
        if self.dialect_name != 'sqlite':
            self.skipTest('only SQLite stores text it cannot decode')

    def test_undecodable_hash(self):
        db = self.details_database(FOUR)
        db.run('upgrade', 'B')
        last = self.ids(db)[-1]
        self.execute(db, "UPDATE %s SET row_hash = CAST(X'FFFE41' AS TEXT) "
                         "WHERE id = %d" % (HISTORY, last))
        with self.assertLogs('audit_alembic.auditor', 'WARNING') as logs:
            db.run('upgrade', 'head')
        self.assertEqual(len(logs.records), 1, logs.output)
        self.assertIn('this row starts a new chain', logs.output[0])
        report, code = self.verify(db)
        self.assertEqual(code, 1, report)
        with db.engine.connect() as connection:
            after = connection.execute(text(
                'SELECT MIN(id) FROM %s WHERE id > %d' % (HISTORY, last))
            ).scalar()
        self.assertEqual(self.broken_rows(report), [[last], [after]])
        for command in ('history', 'status', 'report'):
            result = self.main(command, '-c', db.env.ini_path,
                               cwd=db.env.directory)
            self.assertNotIn('Traceback', result.stderr)
            self.assertEqual(result.returncode, 0, (command, result.stderr))
        history = self.main('history', '-c', db.env.ini_path, '--format',
                            'json')
        self.assertEqual(history.returncode, 0, history.stderr)
        shown = {row['id']: row['row_hash']
                 for row in json.loads(history.stdout)}
        self.assertEqual(shown[last], str(b'\xff\xfeA'))

    def test_undecodable_value(self):
        # Read as stored, the value no longer matches its row's hash.
        db = self.details_database(FOUR)
        db.run('upgrade', 'head')
        row = self.ids(db)[1]
        self.execute(db, "UPDATE %s SET user_version = CAST(X'FF' AS TEXT) "
                         "WHERE id = %d" % (HISTORY, row))
        report, code = self.verify(db)
        self.assertEqual(code, 1, report)
        self.assertEqual(self.broken_rows(report), [[row]])
        for command in ('history', 'status', 'report'):
            result = self.main(command, '-c', db.env.ini_path,
                               cwd=db.env.directory)
            self.assertEqual(result.returncode, 0, (command, result.stderr))
