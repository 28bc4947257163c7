"""``audit-alembic accept`` at its edges: nothing to accept, and a
history table whose columns have names of their own."""
import glob
import os

from audit_alembic import Auditor
from audit_alembic.facts import script_checksum
from audit_alembic.values import ACCEPTED
from test.audit.graphs import LINEAR
from test.cli.test_chain import ChainTestBase
from test.cli.test_custom_tables import NAMES
from test.cli.test_custom_tables import OPTIONS

REASON = 'comment fixed; no SQL change'


def script_of(db, revision):
    """The path of the script of ``revision``."""
    script, = glob.glob(os.path.join(db.env.directory, 'scripts',
                                     'versions', '%s_*.py' % revision))
    return script


def steps(db, table='alembic_version_history'):
    """The rows of ``db`` that record a step (status ``ok``)."""
    return [row for row in db.rows(table) if row['status'] == 'ok']


def edit(path, text='# edited after it ran\n'):
    with open(path, 'a') as f:
        f.write(text)


class NothingToAcceptTest(ChainTestBase):

    def accept(self, db, *args):
        return self.main('accept', '-c', db.env.ini_path, *args)

    def assertNothingToAccept(self, db, revision, row_id):
        before = db.contents()
        out = self.assertSucceeds(self.accept(db, revision, '--reason',
                                              REASON))
        line, = out.splitlines()
        self.assertTrue(line.startswith('nothing to accept: '), line)
        self.assertIn('revision %s' % revision, line)
        self.assertIn('row %s' % row_id, line)
        self.assertEqual(db.contents(), before)

    def test_an_unchanged_script_is_nothing_to_accept(self):
        db = self.details_database()
        db.run('upgrade', 'head')
        self.assertNothingToAccept(db, 'B', steps(db)[1]['id'])

    def test_an_accepted_edit_is_not_accepted_twice(self):
        db = self.details_database()
        db.run('upgrade', 'head')
        edit(script_of(db, 'B'))
        self.assertSucceeds(self.accept(db, 'B', '--reason', REASON))
        accepted, = [row for row in db.rows()
                     if row['status'] == ACCEPTED]
        self.assertNothingToAccept(db, 'B', accepted['id'])
        # Edited again: a new checksum to accept.
        edit(script_of(db, 'B'), '# and again\n')
        count = len(db.rows())
        self.assertSucceeds(self.accept(db, 'B', '--reason', REASON))
        self.assertEqual(len(db.rows()), count + 1)

    def test_an_edit_undone_is_nothing_to_accept(self):
        # The script back as it ran: its checksum is the recorded one.
        db = self.details_database()
        db.run('upgrade', 'head')
        path = script_of(db, 'C')
        with open(path) as f:
            original = f.read()
        edit(path)
        with open(path, 'w') as f:
            f.write(original)
        self.assertNothingToAccept(db, 'C', steps(db)[2]['id'])

    def test_a_downgrade_ran_the_script_too(self):
        # The newest row that ran C's script is the downgrade off it.
        db = self.details_database()
        db.run('upgrade', 'head')
        db.run('downgrade', 'B')
        down = steps(db)[-1]
        self.assertEqual((down['operation_direction'],
                          down['prev_alembic_version']), ('down', 'C'))
        self.assertNothingToAccept(db, 'C', down['id'])

    def test_a_failed_attempt_is_not_current(self):
        db = self.details_database()
        db.run('upgrade', 'head')
        edit(script_of(db, 'B'))
        self.execute(db, "UPDATE alembic_version_history SET "
                         "script_checksum = '%s', status = 'failed' "
                         "WHERE id = %d" % (script_checksum(
                             script_of(db, 'B')), steps(db)[1]['id']))
        count = len(db.rows())
        out = self.assertSucceeds(self.accept(db, 'B', '--reason', REASON))
        self.assertTrue(out.startswith('accepted revision B'), out)
        self.assertEqual(len(db.rows()), count + 1)


class RenamedColumnsAcceptTest(ChainTestBase):
    """accept on the table of ``Auditor.create(details=True, **NAMES)``:
    every standard column and the table renamed."""

    def setUp(self):
        super().setUp()
        self.db = self.audited_database(
            LINEAR, auditor=Auditor.create('app 3', details=True, **NAMES))
        self.db.run('upgrade', 'head')
        self.script = script_of(self.db, 'B')
        edit(self.script)

    def configure(self):
        with open(self.db.env.ini_path, 'a') as f:
            f.write('\n[audit_alembic]\n')
            for key, value in NAMES.items():
                f.write('%s = %s\n' % (key, value))

    def check_accepted(self, *options):
        ini = ['-c', self.db.env.ini_path] + list(options)
        before = self.db.rows('schema_history')
        out = self.assertSucceeds(self.main('accept', 'B', '--reason',
                                            REASON, *ini))
        self.assertTrue(out.startswith('accepted revision B'), out)
        after = self.db.rows('schema_history')
        self.assertEqual(after[:len(before)], before)
        row, = after[len(before):]
        self.assertEqual(
            (row['rev_to'], row['rev_from'], row['kind'], row['way'],
             row['status'], row['script_checksum'], row['message']),
            ('B', 'B', ACCEPTED, 'up', ACCEPTED,
             script_checksum(self.script), REASON))
        self.assertIsNotNone(row['applied_at'])
        self.assertIsNotNone(row['row_hash'])
        report = self.assertSucceeds(self.main('verify', *ini))
        for check in ('replay', 'scripts', 'failures', 'chain'):
            self.assertIn('ok       %s' % check, report)
        # Accepted once: the same again writes nothing.
        out = self.assertSucceeds(self.main('accept', 'B', '--reason',
                                            REASON, *ini))
        self.assertTrue(out.startswith('nothing to accept: '), out)
        self.assertEqual(self.db.rows('schema_history'), after)

    def test_names_from_the_config_file(self):
        self.configure()
        self.check_accepted()

    def test_names_from_options(self):
        self.check_accepted(*OPTIONS)

    def test_default_names_do_not_fit_and_say_so(self):
        result = self.main('accept', 'B', '--reason', REASON, '-c',
                           self.db.env.ini_path, '--table', 'schema_history')
        self.assertFails(result, 'table schema_history lacks',
                         'alembic_version')
