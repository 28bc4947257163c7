"""The ``failures`` check of ``audit-alembic verify`` (issue 19): a failed
attempt is made good when what it attempted has happened, whichever
order racing processes committed their rows in."""
import json

from audit_alembic import Auditor
from audit_alembic.testing.fixtures import AlembicProcess
from audit_alembic.testing.fixtures import Rev
from test.cli.support import CLITestCase

#: A revision script line that raises while ``config.attributes['fail']``
#: is set, and passes otherwise.
FAIL_IF_ASKED = ('if op.get_context().config.attributes.get("fail"): '
                 'raise RuntimeError("asked to fail")\n    ')
#: A revision script line that calls ``config.attributes['meanwhile']``
#: (once) if it is set: what another process does while this one runs.
MEANWHILE = ('op.get_context().config.attributes.pop("meanwhile", '
             'lambda: None)()\n    ')
#: Five revisions in a line, for processes to race over.
FIVE = [Rev('r001')] + [Rev('r%03d' % i, 'r%03d' % (i - 1))
                        for i in range(2, 6)]
RACERS = 4
ROUNDS = 3


def table_of(name):
    return 'op.create_table(%r, sa.Column("id", sa.Integer, ' \
           'primary_key=True))' % name


class FailuresTestBase(CLITestCase):
    __backend__ = True

    def database(self, revisions):
        """A scratch project whose history records failed attempts."""
        return self.audited_database(
            revisions, auditor=Auditor.create('1.0', details=True))

    def report(self, db, *args):
        """The JSON report of verify (``-c`` the project unless other
        ``args``): check name -> its dict."""
        result = self.main('verify', *(args or ('-c', db.env.ini_path)),
                           '--format', 'json')
        document = json.loads(result.stdout)
        self.assertEqual(result.returncode, 0 if document['passed'] else 1,
                         result.stderr)
        return {check['check']: check for check in document['checks']}

    def failures(self, db, *args):
        """The failures check's problems, as (rows, message) pairs."""
        check = self.report(db, *args)['failures']
        self.assertIsNone(check['skipped'])
        return [(problem['rows'], problem['message'])
                for problem in check['problems']]

    def failed_ids(self, db):
        return [row['id'] for row in db.rows() if row['status'] == 'failed']

    def failing(self, db, *command):
        """Run an Alembic command whose scripts are asked to fail."""
        db.env.config.attributes['fail'] = True
        try:
            with self.assertRaises(RuntimeError):
                db.run(*command)
        finally:
            del db.env.config.attributes['fail']


class FailuresTest(FailuresTestBase):

    def test_failed_upgrade_committed_after_the_winners_rows(self):
        # The race of issue 19, step by step: this process runs
        # "upgrade head" from A; while it is in B's script, another
        # process upgrades to head; B's create_table then fails as it
        # does under bare Alembic, and its failed row comes after the
        # winner's rows for B and C.
        db = self.database([Rev('A'), Rev('B', 'A', upgrade=MEANWHILE +
                                          table_of('scratch_b')),
                            Rev('C', 'B')])
        db.run('upgrade', 'A')

        def winner():
            other = AlembicProcess(db.env.ini_path, 'upgrade', 'head')
            self.assertEqual(other.wait(), 0, other.stderr)
        db.env.config.attributes['meanwhile'] = winner
        with self.assertRaises(Exception):
            db.run('upgrade', 'head')
        self.assertEqual(db.env.heads(), {'C'})
        rows = db.rows()
        self.assertEqual(
            [(row['alembic_version'], row['status']) for row in rows],
            [('A', 'ok'), ('B', 'ok'), ('C', 'ok'), ('B', 'failed')])
        # The database at C has B; without the scripts, as the recorded
        # steps say.
        self.assertEqual(self.failures(db), [])
        self.assertEqual(self.failures(db, '--url', db.url_text), [])
        result = self.main('verify', '-c', db.env.ini_path)
        self.assertIn("ok       failures  every 'failed' attempt was made "
                      'good', self.assertSucceeds(result))
        # B was already applied when the attempt was recorded: a later
        # downgrade does not undo that.
        db.run('downgrade', 'A')
        self.assertEqual(self.failures(db), [])

    def test_failed_downgrade_then_the_same_downgrade(self):
        db = self.database([Rev('A'), Rev('B', 'A', downgrade=FAIL_IF_ASKED +
                                          'op.drop_table("scratch_b")')])
        db.run('upgrade', 'head')
        self.failing(db, 'downgrade', 'A')
        failed, = self.failed_ids(db)
        self.assertEqual(self.failures(db), [([failed], (
            'the failed downgrade of row %s (revision B) was not made good: '
            'no later step unapplied it, and the database (at B) still has '
            'it' % failed))])
        db.run('downgrade', 'A')
        self.assertEqual(self.failures(db), [])
        self.assertSucceeds(self.main('verify', '-c', db.env.ini_path))

    def test_failed_downgrade_to_base_at_head(self):
        db = self.database([Rev('A'), Rev('B', 'A'),
                            Rev('C', 'B', downgrade=FAIL_IF_ASKED +
                                'op.drop_table("scratch_c")')])
        db.run('upgrade', 'head')
        self.failing(db, 'downgrade', 'base')
        self.failing(db, 'downgrade', 'B')
        # What they attempted did not happen, and the database still has
        # C: each attempt is listed.
        first, second = self.failed_ids(db)
        self.assertEqual(
            [(rows, message.split(':')[0])
             for rows, message in self.failures(db)],
            [([first], 'the failed downgrade of row %s (revision C) was '
                       'not made good' % first),
             ([second], 'the failed downgrade of row %s (revision C) was '
                        'not made good' % second)])
        failed = self.main('verify', '-c', db.env.ini_path)
        self.assertFindings(failed, 'verification failed: failures')
        self.assertIn('FAILED   failures', failed.stdout)
        # Once a downgrade off C succeeds, both are made good, and stay
        # so when C is applied again.
        db.run('downgrade', 'base')
        self.assertEqual(self.failures(db), [])
        db.run('upgrade', 'head')
        self.assertEqual(self.failures(db), [])

    def test_failed_upgrade_never_retried(self):
        db = self.database([Rev('A'), Rev('B', 'A', upgrade=FAIL_IF_ASKED +
                                          table_of('scratch_b')),
                            Rev('C', 'B')])
        db.run('upgrade', 'A')
        self.failing(db, 'upgrade', 'head')
        failed, = self.failed_ids(db)
        message = ('the failed upgrade of row %s (revision B) was not made '
                   'good: no later step applied it, and the database (at %s) '
                   'does not have it')
        self.assertEqual(self.failures(db),
                         [([failed], message % (failed, 'A'))])
        # A downgrade is no upgrade of B.
        db.run('downgrade', 'base')
        self.assertEqual(self.failures(db), [([failed], message % (
            failed, '<base>'))])
        # An upgrade that applies B makes it good, for good.
        db.run('upgrade', 'head')
        db.run('downgrade', 'A')
        self.assertEqual(self.failures(db), [])

    def test_stamp_over_a_failed_upgrade(self):
        # Fixed by hand, then stamped: the database at C has B.
        db = self.database([Rev('A'), Rev('B', 'A', upgrade=FAIL_IF_ASKED +
                                          table_of('scratch_b')),
                            Rev('C', 'B')])
        db.run('upgrade', 'A')
        self.failing(db, 'upgrade', 'B')
        db.run('stamp', 'C')
        self.assertEqual(self.failures(db), [])


class RacingUpgradesTest(FailuresTestBase):

    def test_verify_passes_after_processes_race_to_head(self):
        db = self.database(FIVE)
        for _ in range(ROUNDS):
            racers = [AlembicProcess(db.env.ini_path, 'upgrade', 'head')
                      for _ in range(RACERS)]
            for racer in racers:
                racer.wait()
            if db.env.heads() != {'r005'}:  # every racer lost
                db.run('upgrade', 'head')
            self.assertEqual(self.failures(db), [])
            self.assertEqual(self.report(db)['replay']['problems'], [])
            db.run('downgrade', 'base')
