"""``audit-alembic accept``: an intended edit of a script that ran,
taken by one appended, chained row."""
import glob
import json
import os

from audit_alembic.facts import script_checksum
from audit_alembic.values import ACCEPTED
from test.cli.test_chain import ChainTestBase
from test.cli.test_chain import with_key

REASON = 'comment fixed; no SQL change'


class AcceptTest(ChainTestBase):

    def edited(self, db, revision='B'):
        """Append a comment to the script of ``revision``; its path."""
        script, = glob.glob(os.path.join(db.env.directory, 'scripts',
                                         'versions', '%s_*.py' % revision))
        with open(script, 'a') as f:
            f.write('# edited after it ran\n')
        return script

    def accept(self, db, *args):
        return self.main('accept', '-c', db.env.ini_path, *args)

    def assertNothingWritten(self, db, before):
        self.assertEqual(db.contents(), before)

    def test_accepted_edit_verifies(self):
        db = self.details_database()
        db.run('upgrade', 'head')
        script = self.edited(db)
        self.assertFalse(self.report(db)['scripts']['passed'])
        before = db.rows()
        self.assertSucceeds(self.accept(db, 'B', '--reason', REASON))
        after = db.rows()
        # Appended, nothing rewritten.
        self.assertEqual(after[:len(before)], before)
        row, = after[len(before):]
        self.assertEqual(
            (row['status'], row['operation_type'], row['alembic_version'],
             row['script_checksum'], row['message']),
            (ACCEPTED, ACCEPTED, 'B', script_checksum(script), REASON))
        self.assertIsNotNone(row['row_hash'])
        self.assertIsNotNone(row['host'])
        self.assertIsNotNone(row['os_user'])
        report = self.report(db)
        for check in ('replay', 'scripts', 'failures', 'chain'):
            self.assertTrue(report[check]['passed'], report[check])
        status = json.loads(self.assertSucceeds(self.main(
            'status', '-c', db.env.ini_path, '--format', 'json')))
        self.assertEqual([r['script'] for r in status['revisions']],
                         ['unchanged'] * 3)
        # Steps after it chain on; another edit is drift again.
        db.run('downgrade', 'A')
        db.run('upgrade', 'head')
        self.assertTrue(self.report(db)['chain']['passed'])
        self.edited(db, 'C')
        self.assertFalse(self.report(db)['scripts']['passed'])

    def test_a_reason_is_required(self):
        db = self.details_database()
        db.run('upgrade', 'head')
        self.edited(db)
        before = db.contents()
        self.assertUsageError(self.accept(db, 'B'), '--reason')
        self.assertUsageError(self.accept(db, 'B', '--reason', ' '),
                              'reason')
        self.assertNothingWritten(db, before)

    def test_unknown_revision(self):
        db = self.details_database()
        db.run('upgrade', 'head')
        before = db.contents()
        result = self.accept(db, 'nosuch', '--reason', REASON)
        self.assertNotEqual(result.returncode, 0)
        line, = result.stderr.splitlines()
        self.assertIn('no revision nosuch', line)
        self.assertNothingWritten(db, before)

    def test_a_keyed_chain_needs_the_key(self):
        db = self.details_database()
        with with_key('sekrit'):
            db.run('upgrade', 'head')
        self.edited(db)
        before = db.contents()
        result = self.accept(db, 'B', '--reason', REASON)
        self.assertNotEqual(result.returncode, 0)
        line, = result.stderr.splitlines()
        self.assertIn('uses a key: set AUDIT_ALEMBIC_KEY', line)
        with with_key('wrong'):
            result = self.accept(db, 'B', '--reason', REASON)
        self.assertIn('does not follow with AUDIT_ALEMBIC_KEY',
                      result.stderr)
        self.assertNothingWritten(db, before)
        with with_key('sekrit'):
            self.assertSucceeds(self.accept(db, 'B', '--reason', REASON))
            report = self.report(db)
        self.assertTrue(report['chain']['passed'], report['chain'])
        self.assertTrue(report['scripts']['passed'], report['scripts'])

    def test_help_says_it_writes(self):
        out = self.assertSucceeds(self.main('accept', '--help'))
        self.assertIn('WRITES', out)
        self.assertIn('AUDIT_ALEMBIC_KEY', out)
        self.assertIn('accept', self.assertSucceeds(self.main('--help')))
