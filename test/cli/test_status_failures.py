"""``audit-alembic status`` shows a revision whose last attempt failed,
as ``flyway info`` does: ``failed`` where the database does not have
it, ``applied, last attempt failed`` where it does (a failed downgrade),
with when and the error's first line, in the table and in the JSON."""
import json

from audit_alembic.testing.fixtures import Rev
from test.cli.support import parse_table
from test.cli.test_failures import FAIL_IF_ASKED
from test.cli.test_failures import FailuresTestBase

#: A then B; B's upgrade and downgrade fail when asked to.
PROJECT = [Rev('A'),
           Rev('B', 'A', upgrade=FAIL_IF_ASKED + 'pass',
               downgrade=FAIL_IF_ASKED + 'pass')]
ERROR = 'RuntimeError: asked to fail'


class StatusFailuresTest(FailuresTestBase):

    def revisions(self, db):
        """The JSON of status: revision id -> its object."""
        document = json.loads(self.assertSucceeds(self.main(
            'status', '-c', db.env.ini_path, '--format', 'json')))
        return {row['revision']: row for row in document['revisions']}

    def table(self, db):
        """The status table: revision id -> its cells by header."""
        out = self.assertSucceeds(self.main(
            'status', '-c', db.env.ini_path, '--wide'))
        header, rows = parse_table(out.split('\n\n')[0])
        return {row[0].split(' -> ')[-1].split(' ')[0]: dict(zip(header, row))
                for row in rows}

    def test_a_failed_upgrade(self):
        db = self.database(PROJECT)
        db.run('upgrade', 'A')
        self.failing(db, 'upgrade', 'head')
        failed_row = [row for row in db.rows() if row['status'] == 'failed']
        self.assertEqual(len(failed_row), 1)

        revisions = self.revisions(db)
        self.assertEqual((revisions['A']['state'],
                          revisions['A']['last_failure']), ('applied', None))
        failure = revisions['B']['last_failure']
        self.assertEqual(
            (revisions['B']['state'], revisions['B']['applied'],
             failure['direction'], failure['error'],
             failure['history_id']),
            ('failed', False, 'up', ERROR, failed_row[0]['id']))
        self.assertTrue(failure['at'].startswith(
            failed_row[0]['changed_at'].strftime('%Y-%m-%dT%H:%M:%S')))

        table = self.table(db)
        self.assertEqual((table['B']['state'], table['B']['error']),
                         ('failed', ERROR))
        self.assertEqual(table['B']['failed at (UTC)'],
                         failed_row[0]['changed_at'].strftime(
                             '%Y-%m-%d %H:%M:%S'))
        self.assertEqual((table['A']['state'], table['A']['error']),
                         ('applied', ''))

        # A gate still says "behind": exit 1, and the table is shown.
        behind = self.main('status', '-c', db.env.ini_path, '--expect-head')
        self.assertIn('failed', behind.stdout)
        self.assertFindings(behind, 'the database is at A')

        # A step off A is no step of B: B's attempt still stands.
        db.run('downgrade', 'base')
        revisions = self.revisions(db)
        self.assertEqual((revisions['A']['state'], revisions['B']['state']),
                         ('pending', 'failed'))

    def test_a_later_success_clears_the_failure(self):
        db = self.database(PROJECT)
        db.run('upgrade', 'A')
        self.failing(db, 'upgrade', 'head')
        db.run('upgrade', 'head')
        revisions = self.revisions(db)
        self.assertEqual((revisions['B']['state'],
                          revisions['B']['last_failure']), ('applied', None))
        self.assertNotIn('error', next(iter(self.table(db).values())))

    def test_a_failed_downgrade_of_an_applied_revision(self):
        db = self.database(PROJECT)
        db.run('upgrade', 'head')
        self.failing(db, 'downgrade', '-1')
        revisions = self.revisions(db)
        self.assertEqual(
            (revisions['B']['state'], revisions['B']['applied'],
             revisions['B']['last_failure']['direction'],
             revisions['B']['last_failure']['error']),
            ('applied, last attempt failed', True, 'down', ERROR))
        self.assertEqual(self.table(db)['B']['state'],
                         'applied, last attempt failed')
        # The database is at its head: the gate passes.
        self.assertSucceeds(self.main('status', '-c', db.env.ini_path,
                                      '--expect-head'))
        db.run('downgrade', '-1')
        revisions = self.revisions(db)
        self.assertEqual((revisions['B']['state'],
                          revisions['B']['last_failure']), ('pending', None))
