"""``audit-alembic digest`` and ``verify --digest``: what a digest kept
outside the database catches that the chain alone cannot."""
import json
import os
import tempfile

from sqlalchemy import MetaData
from sqlalchemy import Table
from sqlalchemy import select

from audit_alembic import Auditor
from audit_alembic import digest
from audit_alembic.hashing import chain_hash
from audit_alembic.values import chained_names
from test.cli.test_chain import ChainTestBase
from test.cli.test_chain import with_key

HISTORY = 'alembic_version_history'


class DigestTestBase(ChainTestBase):
    """Without AUDIT_ALEMBIC_KEY unless a test sets it."""

    def database(self):
        db = self.details_database()
        db.run('upgrade', 'B')
        return db

    def take(self, db):
        result = self.main('digest', '-c', db.env.ini_path)
        line = self.assertSucceeds(result).strip()
        self.assertEqual(len(line.splitlines()), 1)
        return line

    def verify(self, db, *digests):
        arguments = []
        for line in digests:
            arguments += ['--digest', line]
        return self.main('verify', '-c', db.env.ini_path, '--format',
                         'json', *arguments)

    def checks(self, result):
        return {check['check']: check
                for check in json.loads(result.stdout)['checks']}

    def rewrite(self, db, change, drop=False):
        """Rewrite the trail as someone with write access but no key
        would: ``change`` each row (a dict, oldest first), recompute
        every hash; ``drop``: delete every row and insert them again."""
        metadata = MetaData()
        table = Table(HISTORY, metadata, autoload_with=db.engine)
        names = chained_names({}, present=table.c)
        with db.engine.begin() as connection:
            rows = [dict(row._mapping) for row in connection.execute(
                select(table).order_by(table.c.id))]
            previous = None
            for row in rows:
                change(row)
                previous = row['row_hash'] = chain_hash(
                    previous, [row[name] for name in names])
            if drop:
                connection.execute(table.delete())
                connection.execute(table.insert(), rows)
            else:
                for row in rows:
                    connection.execute(table.update().where(
                        table.c.id == row['id']).values(row))


class DigestTest(DigestTestBase):

    def test_the_line_names_the_last_chained_row(self):
        db = self.database()
        found = digest.parse(self.take(db))
        last = db.rows()[-1]
        self.assertEqual((found.table, found.rows, found.last_id,
                          found.last_hash, found.hmac),
                         (HISTORY, 2, last['id'], last['row_hash'], None))
        result = self.main('digest', '-c', db.env.ini_path, '--format',
                           'json')
        document = json.loads(self.assertSucceeds(result))
        self.assertEqual(digest.parse(document['digest']), found._replace(
            taken_at=digest.parse(document['digest']).taken_at))
        self.assertEqual(document['last_id'], last['id'])

    def test_signed_with_the_key(self):
        db = self.database()
        with with_key('sesame'):
            found = digest.parse(self.take(db))
        self.assertTrue(found.signature_holds(b'sesame'))

    def test_reads_only(self):
        db = self.database()
        before = db.contents()
        self.take(db)
        self.assertEqual(db.contents(), before)

    def test_no_chain_yet(self):
        from test.audit.graphs import LINEAR
        db = self.audited_database(LINEAR, auditor=Auditor.create('1.0'))
        db.run('upgrade', 'A')
        result = self.main('digest', '-c', db.env.ini_path)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn('has no row_hash column', result.stderr)
        self.assertEqual(len(result.stderr.splitlines()), 1)


class VerifyDigestTest(DigestTestBase):

    def test_later_runs_keep_it(self):
        db = self.database()
        line = self.take(db)
        db.run('upgrade', 'head')
        db.run('downgrade', 'A')
        result = self.verify(db, line)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertTrue(self.checks(result)['digests']['passed'])

    def test_without_digests_no_such_check(self):
        db = self.database()
        result = self.main('verify', '-c', db.env.ini_path, '--format',
                           'json')
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotIn('digests', self.checks(result))

    def test_the_last_row_deleted(self):
        db = self.database()
        line = self.take(db)
        with db.engine.begin() as connection:
            connection.exec_driver_sql(
                'DELETE FROM %s WHERE id = %d' % (HISTORY,
                                                  db.rows()[-1]['id']))
        result = self.verify(db, line)
        self.assertEqual(result.returncode, 1, result.stderr)
        problem, = self.checks(result)['digests']['problems']
        self.assertIn('is missing', problem['message'])
        self.assertIn('--digest 1', problem['message'])

    def test_the_trail_rebuilt_without_the_key(self):
        db = self.database()
        line = self.take(db)

        def older_version(row):
            row['user_version'] = '0.9'
        self.rewrite(db, older_version, drop=True)
        # The chain alone cannot tell: it was recomputed.
        plain = self.main('verify', '-c', db.env.ini_path)
        self.assertEqual(plain.returncode, 0, plain.stdout + plain.stderr)
        result = self.verify(db, line)
        self.assertEqual(result.returncode, 1, result.stdout)
        problem, = self.checks(result)['digests']['problems']
        self.assertIn('has another hash', problem['message'])

    def test_a_middle_row_rewritten(self):
        db = self.database()
        db.run('upgrade', 'head')
        line = self.take(db)
        first = db.rows()[0]['id']

        def edited(row):
            if row['id'] == first:
                row['os_user'] = 'someone else'
        self.rewrite(db, edited)
        result = self.verify(db, line)
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn('has another hash',
                      self.checks(result)['digests']['problems'][0]['message'])

    def test_rows_deleted_before_it(self):
        db = self.database()
        db.run('upgrade', 'head')
        line = self.take(db)
        first = db.rows()[0]['id']
        with db.engine.begin() as connection:
            connection.exec_driver_sql('DELETE FROM %s WHERE id = %d' % (
                HISTORY, first))
        self.rewrite(db, lambda row: None)
        result = self.verify(db, line)
        self.assertEqual(result.returncode, 1, result.stdout)
        messages = [p['message'] for p in
                    self.checks(result)['digests']['problems']]
        self.assertTrue(any('rows were deleted' in m or 'another hash' in m
                            for m in messages), messages)

    def test_a_wrong_hmac(self):
        with with_key('sesame'):
            db = self.database()  # its chain with the key, too
            line = self.take(db)
            forged = digest.parse(line)._replace(hmac='0' * 64).line()
            good = self.verify(db, line)
            bad = self.verify(db, line, forged)
        self.assertEqual(good.returncode, 0, good.stdout)
        self.assertEqual(bad.returncode, 1, bad.stdout)
        problem, = self.checks(bad)['digests']['problems']
        self.assertIn('--digest 2: its HMAC does not hold', problem['message'])

    def test_hmac_unchecked_without_the_key(self):
        db = self.database()
        with with_key('sesame'):
            line = self.take(db)
        result = self.verify(db, line)
        self.assertEqual(result.returncode, 0, result.stdout)
        self.assertIn('is not checked', ' '.join(
            self.checks(result)['digests']['notes']))

    def test_malformed_is_a_usage_error(self):
        db = self.database()
        for bad in ('nonsense', 'aa-digest-1 table=x rows=1'):
            result = self.verify(db, bad)
            self.assertEqual(result.returncode, 2, result.stdout)
            self.assertEqual(len(result.stderr.splitlines()), 1,
                             result.stderr)
            self.assertIn('--digest', result.stderr)

    def test_a_file_of_lines_grepped_from_deploy_logs(self):
        db = self.database()
        with self.assertLogs('audit_alembic.auditor', 'INFO') as logs:
            db.run('upgrade', 'head')
        logged = [line for line in logs.output if 'audit digest: ' in line]
        self.assertEqual(len(logged), 1, logs.output)
        directory = tempfile.mkdtemp()
        self.addCleanup(os.rmdir, directory)
        path = os.path.join(directory, 'digests.txt')
        with open(path, 'w') as f:
            f.write('INFO [audit_alembic.auditor] %s\n\n%s\n' % (
                logged[0].split(':', 2)[2].strip(), self.take(db)))
        self.addCleanup(os.remove, path)
        result = self.main('verify', '-c', db.env.ini_path, '--format',
                           'json', '--digest', '@' + path)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn('2 digest(s) hold',
                      self.checks(result)['digests']['notes'])
        with open(path, 'a') as f:
            f.write('not a digest\n')
        result = self.main('verify', '-c', db.env.ini_path, '--digest',
                           '@' + path)
        self.assertEqual(result.returncode, 2)
        self.assertIn('digests.txt:4', result.stderr)
        missing = self.main('verify', '-c', db.env.ini_path, '--digest',
                            '@' + path + '.nope')
        self.assertEqual(missing.returncode, 2)
        self.assertEqual(len(missing.stderr.splitlines()), 1)
