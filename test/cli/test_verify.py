"""``audit-alembic verify`` on untouched and on tampered histories."""
import glob
import json
import os

from sqlalchemy import text

from audit_alembic.testing.fixtures import Rev
from test.audit.graphs import BRANCHY
from test.audit.graphs import LINEAR
from test.cli.support import CLITestCase


class VerifyTest(CLITestCase):
    __backend__ = True

    def verify(self, db, *args):
        return self.main('verify', '-c', db.env.ini_path, *args)

    def report(self, db):
        """The JSON report: check name -> its dict."""
        result = self.verify(db, '--format', 'json')
        document = json.loads(result.stdout)
        self.assertEqual(result.returncode, 0 if document['passed'] else 1,
                         result.stderr)
        return {check['check']: check for check in document['checks']}

    def without_auditor(self, db, *command):
        db.env.config.attributes['auditor'] = False
        try:
            db.run(*command)
        finally:
            db.env.config.attributes['auditor'] = None

    def execute(self, db, sql):
        with db.engine.begin() as connection:
            connection.execute(text(sql))

    def messages(self, check):
        return [problem['message'] for problem in check['problems']]

    def test_an_untouched_branchy_history_verifies(self):
        db = self.audited_database(BRANCHY)
        for command in (('upgrade', 'E'), ('upgrade', 'E0'),
                        ('upgrade', 'F'), ('downgrade', 'E0'),
                        ('upgrade', 'heads'), ('stamp', 'G3'),
                        ('downgrade', 'C'), ('stamp', 'heads')):
            db.run(*command)
        result = self.verify(db)
        out = self.assertSucceeds(result)
        self.assertIn('ok       replay', out)
        self.assertIn('ok       scripts', out)

    def test_manual_update_of_the_version_table(self):
        db = self.audited_database(LINEAR)
        db.run('upgrade', 'B')
        last = db.rows()[-1]['id']
        self.execute(db, "UPDATE alembic_version SET version_num = 'C'")
        report = self.report(db)
        self.assertFalse(report['replay']['passed'])
        self.assertEqual(self.messages(report['replay']), [
            'the history leads to B, but the version table holds C: it was '
            'changed without the auditor after row %s (a manual UPDATE, or '
            'an alembic stamp run without the auditor)' % last])
        failed = self.verify(db)
        self.assertFindings(failed, 'verification failed: replay')
        self.assertIn('FAILED   replay', failed.stdout)

    def test_version_table_emptied(self):
        db = self.audited_database(LINEAR)
        db.run('upgrade', 'B')
        last = db.rows()[-1]['id']
        self.execute(db, 'DELETE FROM alembic_version')
        self.assertEqual(self.messages(self.report(db)['replay']), [
            'the history leads to B, but the version table holds <base>: '
            'the version table is empty or missing: it was emptied or '
            'dropped after row %s, or the database is not the one the '
            'history was written in' % last])

    def test_version_table_set_to_no_revision_at_all(self):
        db = self.audited_database(LINEAR)
        db.run('upgrade', 'B')
        self.execute(db, "UPDATE alembic_version SET version_num = 'zzz'")
        self.assertIn('zzz is not a revision of the script directory: a '
                      'manual UPDATE of the version table',
                      self.messages(self.report(db)['replay'])[0])

    def test_stamp_without_the_auditor(self):
        db = self.audited_database(LINEAR)
        db.run('upgrade', 'A')
        self.without_auditor(db, 'stamp', 'B')
        db.run('upgrade', 'C')
        first, third = db.rows()[0]['id'], db.rows()[1]['id']
        self.assertEqual(self.messages(self.report(db)['replay']), [
            'row %s starts from B, but row %s left the database at A: it was '
            'moved without the auditor in between (an alembic stamp or '
            'upgrade run without it, or a manual UPDATE of the version '
            'table)' % (third, first)])

    def test_deleted_row(self):
        db = self.audited_database(LINEAR)
        db.run('upgrade', 'head')
        ids = [row['id'] for row in db.rows()]
        self.execute(db, 'DELETE FROM alembic_version_history WHERE id = %d'
                     % ids[1])
        message, = self.messages(self.report(db)['replay'])
        self.assertIn('row %d starts from B, but the rows before it leave '
                      'the database at A; ids jump from %d to %d: rows were '
                      'deleted' % (ids[2], ids[0], ids[2]), message)

    def test_deleted_downgrade(self):
        # A -> B -> C, then down to B and A: without the row of C -> B,
        # the next one starts below the head the rows before it left.
        db = self.audited_database(LINEAR)
        db.run('upgrade', 'head')
        db.run('downgrade', 'A')
        ids = [row['id'] for row in db.rows()]
        self.execute(db, 'DELETE FROM alembic_version_history WHERE id = %d'
                     % ids[3])
        message, = self.messages(self.report(db)['replay'])
        self.assertIn('row %d starts from B, but the rows before it leave '
                      'the database at C; ids jump from %d to %d: rows were '
                      'deleted' % (ids[4], ids[2], ids[4]), message)

    def test_edited_revision_before_a_step_from_below_it(self):
        # Row 2 edited to lead to C: row 3 (B -> C) starts below it, and
        # is no new branch (C is applied already).
        db = self.audited_database(LINEAR)
        db.run('upgrade', 'head')
        ids = [row['id'] for row in db.rows()]
        self.execute(db, "UPDATE alembic_version_history SET "
                     "alembic_version = 'C' WHERE id = %d" % ids[1])
        message, = self.messages(self.report(db)['replay'])
        self.assertIn('row %d starts from B, but row %d left the database at '
                      'C' % (ids[2], ids[1]), message)

    def test_history_added_to_a_project_under_way(self):
        db = self.audited_database(LINEAR)
        self.without_auditor(db, 'upgrade', 'A')
        db.run('upgrade', 'head')
        report = self.report(db)
        self.assertTrue(report['replay']['passed'])
        first = db.rows()[0]['id']
        self.assertEqual(report['replay']['notes'], [
            'the history starts at A (row %s), not at the base: it was '
            'added to a project already under way' % first])

    def test_recorded_revision_missing_from_the_scripts(self):
        db = self.audited_database(LINEAR)
        db.run('upgrade', 'head')
        db.run('downgrade', 'B')
        script, = glob.glob(os.path.join(db.env.directory, 'scripts',
                                         'versions', 'C_*.py'))
        os.remove(script)
        report = self.report(db)
        self.assertTrue(report['replay']['passed'])
        self.assertEqual(report['scripts']['problems'][0]['revisions'],
                         ['C'])

    def test_reads_only(self):
        db = self.audited_database(LINEAR)
        db.run('upgrade', 'B')
        self.execute(db, "UPDATE alembic_version SET version_num = 'C'")

        before = db.contents()
        for args in ([], ['--format', 'json']):
            self.assertEqual(self.verify(db, *args).returncode, 1)
        self.assertEqual(db.contents(), before)


class VerifyErrorTest(CLITestCase):
    def test_no_history_table(self):
        db = self.audited_database([Rev('A')], sqlite_file=True,
                                   auditor=False)
        db.run('upgrade', 'head')
        self.assertFails(self.main('verify', '-c', db.env.ini_path),
                         'no table alembic_version_history')

    def test_not_a_history_table(self):
        db = self.audited_database([Rev('A')], sqlite_file=True)
        db.run('upgrade', 'head')
        self.assertFails(
            self.main('verify', '-c', db.env.ini_path, '--table',
                      'scratch_a'),
            'table scratch_a lacks columns prev_alembic_version, '
            'alembic_version, operation_type')

    def test_without_a_script_directory(self):
        db = self.audited_database([Rev('A')], sqlite_file=True)
        db.run('upgrade', 'head')
        out = self.assertSucceeds(self.main('verify', '--url', db.url_text,
                                            cwd=db.directory))
        self.assertIn('skipped  scripts', out)

    def test_a_skipped_check_says_why(self):
        db = self.audited_database([Rev('A')], sqlite_file=True)
        db.run('upgrade', 'head')
        why = 'no script directory (pass -c FILE or --script-location DIR)'
        out = self.assertSucceeds(self.main('verify', '--url', db.url_text,
                                            cwd=db.directory))
        self.assertIn('skipped  scripts', out)
        self.assertIn('         (%s)\n' % why, out)
        result = self.main('verify', '--url', db.url_text, '--format',
                           'json', cwd=db.directory)
        checks = {check['check']: check
                  for check in json.loads(self.assertSucceeds(result))
                  ['checks']}
        # In JSON, "skipped" is the reason, or null for a check that ran.
        self.assertEqual(checks['scripts']['skipped'], why)
        self.assertTrue(checks['scripts']['passed'])
        self.assertIsNone(checks['replay']['skipped'])
