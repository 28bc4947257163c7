"""``audit-alembic status`` on projects migrated by real Alembic runs."""
import glob
import json
import os

from sqlalchemy import inspect
from sqlalchemy import text

from audit_alembic.testing.fixtures import Rev
from test.audit.graphs import BRANCHY
from test.audit.graphs import LINEAR
from test.cli.support import CLITestCase
from test.cli.support import parse_table


def ancestors(graph, heads):
    """The revisions of ``graph`` (a list of Rev) a database at ``heads``
    has applied: the heads, their down revisions and dependencies, and
    theirs, recursively."""
    by_id = {rev.id: rev for rev in graph}
    found, todo = set(), list(heads)
    while todo:
        rev = by_id[todo.pop()]
        if rev.id in found:
            continue
        found.add(rev.id)
        for link in (rev.down, rev.depends_on):
            if link:
                todo.extend([link] if isinstance(link, str) else link)
    return found


class StatusTest(CLITestCase):
    __backend__ = True

    def status(self, db, *args):
        return self.main('status', '-c', db.env.ini_path, *args)

    def table(self, db, *args):
        out = self.assertSucceeds(self.status(db, *args))
        table, footer = out.split('\n\n')
        header, rows = parse_table(table)
        self.assertEqual(header[:4], ['revision', 'state',
                                      'applied at (UTC)', 'user version'])
        return rows, footer

    def test_applied_and_pending(self):
        db = self.audited_database(LINEAR, user_version='app 2.1')
        db.run('upgrade', 'B')
        rows, footer = self.table(db)
        recorded = {row['alembic_version']: row for row in db.rows()}
        self.assertEqual(
            [row[:4] for row in rows],
            [['<base> -> A', 'applied',
              recorded['A']['changed_at'].strftime('%Y-%m-%d %H:%M:%S'),
              'app 2.1'],
             ['A -> B', 'applied',
              recorded['B']['changed_at'].strftime('%Y-%m-%d %H:%M:%S'),
              'app 2.1'],
             ['B -> C (head)', 'pending', '', '']])
        self.assertEqual(footer, 'database at: B\npending: C\n')

    def test_expect_head(self):
        db = self.audited_database(LINEAR)
        db.run('upgrade', 'B')
        behind = self.status(db, '--expect-head')
        self.assertIn('pending: C', behind.stdout)
        self.assertFindings(behind, 'the database is at B, not at the head '
                                    'of the script directory (C)')
        db.run('upgrade', 'head')
        self.assertSucceeds(self.status(db, '--expect-head'))

    def test_stamps_and_steps_without_a_record(self):
        db = self.audited_database(LINEAR)
        db.run('upgrade', 'A')
        db.run('stamp', 'B')
        with db.engine.begin() as connection:
            connection.execute(text(
                "UPDATE alembic_version SET version_num = 'C'"))
        rows, footer = self.table(db)
        self.assertEqual([row[1] for row in rows],
                         ['applied', 'stamped', 'applied, no record'])
        self.assertEqual(footer, 'database at: C\npending: none\n')

    def test_a_downgraded_revision_is_pending_again(self):
        db = self.audited_database(LINEAR)
        db.run('upgrade', 'head')
        db.run('downgrade', 'A')
        rows, _ = self.table(db)
        self.assertEqual([(row[1], row[2]) for row in rows][1:],
                         [('pending', ''), ('pending', '')])

    def test_branches_merges_and_dependencies(self):
        db = self.audited_database(BRANCHY)
        db.run('upgrade', 'G')
        db.run('upgrade', 'G3')
        document = json.loads(self.assertSucceeds(
            self.status(db, '--format', 'json')))
        applied = {row['revision'] for row in document['revisions']
                   if row['applied']}
        self.assertEqual(applied, ancestors(BRANCHY, ['G', 'G3']))
        self.assertEqual(set(document['pending']),
                         {rev.id for rev in BRANCHY} - applied)
        self.assertEqual(document['current_heads'], sorted(db.env.heads()))
        self.assertEqual(document['script_heads'], ['H'])
        steps = {row['revision']: row['step']
                 for row in document['revisions']}
        self.assertEqual(steps['F'], 'E, E0 -> F (mergepoint)')
        self.assertEqual(steps['F2'], 'E1 -> F2 (branchpoint)')
        self.assertEqual(
            [row['revision'] for row in document['revisions']][:3],
            ['A', 'B', 'C'])

    def test_json(self):
        db = self.audited_database(LINEAR, user_version='9.9')
        db.run('upgrade', 'A')
        document = json.loads(self.assertSucceeds(
            self.status(db, '--format', 'json')))
        first = document['revisions'][0]
        recorded = db.rows()[0]
        self.assertEqual(
            (first['revision'], first['state'], first['user_version'],
             first['history_id'], first['message']),
            ('A', 'applied', '9.9', recorded['id'], 'revision A'))
        self.assertEqual(first['applied_at'], recorded['changed_at'].isoformat(
            timespec='microseconds') + '+00:00')
        self.assertEqual(document['pending'], ['B', 'C'])

    def test_reads_only(self):
        db = self.audited_database(LINEAR)
        db.run('upgrade', 'B')

        before = db.contents()
        for args in ([], ['--format', 'json'], ['--expect-head']):
            self.assertEqual(self.status(db, *args).returncode,
                             1 if args == ['--expect-head'] else 0)
        self.assertEqual(db.contents(), before)


class StatusErrorTest(CLITestCase):
    def test_no_script_directory(self):
        db = self.audited_database([Rev('A')], sqlite_file=True)
        self.assertFails(
            self.main('status', '--url', db.url_text, '--script-location',
                      '/no/such/dir'),
            'cannot read the Alembic scripts', '/no/such/dir')

    def test_broken_script_directory(self):
        db = self.audited_database([Rev('A'), Rev('B', 'A'), Rev('C', 'B')],
                                   sqlite_file=True)
        versions = os.path.join(db.env.directory, 'scripts', 'versions')
        middle, = glob.glob(os.path.join(versions, 'B_*.py'))
        last, = glob.glob(os.path.join(versions, 'C_*.py'))
        with open(last) as f:
            script = f.read()
        with open(last, 'a') as f:
            f.write('def (:\n')
        for command in ('status', 'verify'):
            self.assertFails(self.main(command, '-c', db.env.ini_path),
                             'cannot read the Alembic scripts in',
                             'SyntaxError')
        with open(last, 'w') as f:
            f.write(script)
        os.remove(middle)  # C's down revision is gone
        for command in ('status', 'verify'):
            self.assertFails(self.main(command, '-c', db.env.ini_path),
                             'cannot read the Alembic scripts in',
                             'revision C is not present')

    def test_tables_named_on_purpose_must_exist(self):
        db = self.audited_database([Rev('A')], sqlite_file=True)
        db.run('upgrade', 'head')
        for command in ('status', 'verify'):
            self.assertFails(
                self.main(command, '-c', db.env.ini_path, '--version-table',
                          'nosuch'),
                'no table nosuch in', '(--version-table)')
        self.assertFails(
            self.main('status', '-c', db.env.ini_path, '--table', 'nosuch'),
            'no table nosuch in', '(the history table)')

    def test_url_without_a_project(self):
        db = self.audited_database([Rev('A')], sqlite_file=True)
        self.assertFails(self.main('status', '--url', db.url_text,
                                   cwd=db.directory),
                         'no Alembic project here', '--script-location DIR')

    def test_database_at_an_unknown_revision(self):
        db = self.audited_database([Rev('A')], sqlite_file=True)
        db.run('upgrade', 'head')
        with db.engine.begin() as connection:
            connection.execute(text(
                "UPDATE alembic_version SET version_num = 'zzz'"))
        self.assertFails(self.main('status', '-c', db.env.ini_path),
                         'the database is at zzz')

    def test_not_a_history_table(self):
        db = self.audited_database([Rev('A')], sqlite_file=True)
        db.run('upgrade', 'head')
        self.assertFails(self.main('status', '-c', db.env.ini_path,
                                   '--table', 'scratch_a'),
                         'status needs column alembic_version, which table '
                         'scratch_a lacks')

    def test_without_a_history_table(self):
        db = self.audited_database([Rev('A'), Rev('B', 'A')],
                                   sqlite_file=True, auditor=False)
        db.run('upgrade', 'A')
        out = self.assertSucceeds(self.main('status', '-c',
                                            db.env.ini_path))
        self.assertIn('applied, no record', out)
        self.assertFalse(inspect(db.engine).has_table(
            'alembic_version_history'))

    def test_time_column_holding_text(self):
        # SQLite keeps any text in a DATETIME column; SQLAlchemy's type
        # cannot read it back.  Shown as stored, each on one line.
        db = self.audited_database(LINEAR, sqlite_file=True)
        db.run('upgrade', 'B')
        with db.engine.begin() as connection:
            connection.execute(text(
                "UPDATE alembic_version_history SET changed_at = "
                "'not a date'"))
            connection.execute(text(
                "UPDATE alembic_version_history SET changed_at = "
                "'two' || char(10) || 'lines' WHERE alembic_version = 'B'"))
        out = self.assertSucceeds(self.main('status', '-c',
                                            db.env.ini_path))
        header, rows = parse_table(out.split('\n\n')[0])
        self.assertEqual([row[:3] for row in rows],
                         [['<base> -> A', 'applied', 'not a date'],
                          ['A -> B', 'applied', 'two\\nlines'],
                          ['B -> C (head)', 'pending', '']])
        document = json.loads(self.assertSucceeds(self.main(
            'status', '-c', db.env.ini_path, '--format', 'json')))
        self.assertEqual([row['applied_at'] for row in
                          document['revisions']],
                         ['not a date', 'two\nlines', None])
