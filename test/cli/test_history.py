"""``audit-alembic history`` on history tables written by real Alembic runs."""
import datetime
import json

from sqlalchemy import Column
from sqlalchemy import String
from sqlalchemy import inspect

from audit_alembic import Auditor
from audit_alembic.testing.fixtures import Rev
from test.cli.support import AuditedDatabase
from test.cli.support import CLITestCase
from test.cli.support import parse_csv
from test.cli.support import parse_table

#: B and C branch from A and merge in D, so that steps start or end at
#: "B##C"; E and DE share letters with D and E, F comes after DE.
GRAPH = [Rev('A'), Rev('B', 'A'), Rev('C', 'A'), Rev('D', ('B', 'C')),
         Rev('E', 'D'), Rev('DE', 'E'), Rev('F', 'DE')]
COLUMNS = ['id', 'alembic_version', 'prev_alembic_version', 'operation_type',
           'operation_direction', 'user_version', 'changed_at']
HEADERS = ['id', 'time (UTC)', 'direction', 'kind', 'from -> to',
           'user version']


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def revisions(value):
    return ', '.join(value.split('##')) if value else '<base>'


def parts(value):
    return set(value.split('##')) if value else set()


def parts_list(value):
    return value.split('##') if value else []


REVISION_COLUMNS = ('alembic_version', 'prev_alembic_version')


class HistoryTest(CLITestCase):
    """Read-only tests sharing one history of ten steps:

    upgrade D (4 steps), downgrade B (1), upgrade head (4), stamp DE (1).
    """

    __backend__ = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.db = AuditedDatabase(cls.class_target(), GRAPH)
        try:
            cls.db.run('upgrade', 'D')
            cls.db.run('downgrade', 'B')
            cls.between = utcnow()
            cls.db.run('upgrade', 'head')
            cls.db.run('stamp', 'DE')
            cls.rows = cls.db.rows()
        except BaseException:
            cls.db.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.db.close()
        super().tearDownClass()

    def history(self, *args):
        return self.main('history', '--url', self.db.url_text, *args)

    def ids(self, csv_text):
        return [int(row[0]) for row in parse_csv(csv_text)[1:]]

    def ids_where(self, predicate):
        return [row['id'] for row in self.rows if predicate(row)]

    def test_table(self):
        headers, lines = parse_table(self.assertSucceeds(self.history()))
        self.assertEqual(headers, HEADERS)
        self.assertEqual(lines, [[
            str(row['id']),
            row['changed_at'].strftime('%Y-%m-%d %H:%M:%S'),
            row['operation_direction'],
            row['operation_type'],
            '%s -> %s' % (revisions(row['prev_alembic_version']),
                          revisions(row['alembic_version'])),
            '1.0',
        ] for row in self.rows])
        self.assertEqual(lines[0][2:5], ['up', 'migration', '<base> -> A'])
        self.assertEqual([line[2:5] for line in lines[3:]], [
            ['up', 'migration', 'B, C -> D'],
            ['down', 'migration', 'D -> B, C'],
            ['up', 'migration', 'B, C -> D'],
            ['up', 'migration', 'D -> E'],
            ['up', 'migration', 'E -> DE'],
            ['up', 'migration', 'DE -> F'],
            ['down', 'stamp', 'F -> DE']])

    def test_revision_filter(self):
        by_b, by_e, by_percent = self.main_many(*[
            ['history', '--url', self.db.url_text, '--format', 'csv',
             '--revision', revision] for revision in ('B', 'E', '%')])
        for result, revision, count in ((by_b, 'B', 4), (by_e, 'E', 2)):
            ids = self.ids(self.assertSucceeds(result))
            self.assertEqual(ids, self.ids_where(
                lambda row: revision in parts(row['alembic_version']) |
                parts(row['prev_alembic_version'])))
            self.assertEqual(len(ids), count)
        # % and _ are no wildcards: no revision is named so.
        self.assertEqual((by_percent.returncode, by_percent.stdout), (2, ''))
        self.assertIn("no revision '%'", by_percent.stderr)

    def test_since(self):
        as_utc = self.between.isoformat() + 'Z'
        in_paris = (self.between + datetime.timedelta(hours=2)).isoformat() \
            + '+02:00'
        results = self.main_many(*[
            ['history', '--url', self.db.url_text, '--format', 'csv',
             '--since', since] for since in (as_utc, in_paris)])
        expected = self.ids_where(lambda row: row['changed_at'] >=
                                  self.between)
        self.assertEqual(expected, [6, 7, 8, 9, 10])
        for result in results:
            self.assertEqual(self.ids(self.assertSucceeds(result)), expected)

    def test_last(self):
        last_three, last_b = self.main_many(
            ['history', '--url', self.db.url_text, '--last', '3'],
            ['history', '--url', self.db.url_text, '--last', '2',
             '--revision', 'B', '--format', 'csv'])
        _, lines = parse_table(self.assertSucceeds(last_three))
        self.assertEqual([line[0] for line in lines], ['8', '9', '10'])
        self.assertEqual(self.ids(self.assertSucceeds(last_b)), [5, 6])

    def test_json(self):
        data = json.loads(self.assertSucceeds(self.history(
            '--format', 'json')))
        self.assertEqual([list(item) for item in data], [COLUMNS] * 10)
        for item, row in zip(data, self.rows):
            changed = datetime.datetime.fromisoformat(item.pop('changed_at'))
            self.assertEqual(changed.utcoffset(), datetime.timedelta(0))
            self.assertEqual(changed.replace(tzinfo=None), row['changed_at'])
            # The revisions as lists of ids (see test_json_shapes).
            self.assertEqual(item, {name: parts_list(row[name])
                                    if name in REVISION_COLUMNS
                                    else row[name] for name in COLUMNS
                                    if name != 'changed_at'})

    def test_csv(self):
        table = parse_csv(self.assertSucceeds(self.history(
            '--format', 'csv')))
        self.assertEqual(table[0], COLUMNS)
        self.assertEqual(table[1:], [
            [str(row['id']), row['alembic_version'],
             row['prev_alembic_version'], row['operation_type'],
             row['operation_direction'], row['user_version'],
             row['changed_at'].isoformat(timespec='microseconds') + '+00:00']
            for row in self.rows])

    def test_no_matching_rows(self):
        table, as_json = self.main_many(*[
            ['history', '--url', self.db.url_text, '--since', '9999-01-01',
             '--format', output_format]
            for output_format in ('table', 'json')])
        headers, lines = parse_table(self.assertSucceeds(table))
        self.assertEqual((headers, lines), (HEADERS, []))
        self.assertEqual(json.loads(self.assertSucceeds(as_json)), [])

    def test_unknown_revision_is_an_error(self):
        # Exit 2: the command could not show what was asked (issue 21).
        for output_format in ('table', 'json'):
            result = self.history('--revision', 'X', '--format',
                                  output_format)
            self.assertEqual((result.returncode, result.stdout), (2, ''))
            self.assertIn("no revision 'X' in the history of "
                          'alembic_version_history', result.stderr)

    def test_revision_prefix(self):
        # F is the only revision starting so; D is one, exact, though DE
        # starts with it too; nothing else starts with B.
        by_f, by_d, by_whole = self.main_many(*[
            ['history', '--url', self.db.url_text, '--format', 'csv',
             '--revision', revision] for revision in ('F', 'D', 'DE')])
        self.assertEqual(self.ids(self.assertSucceeds(by_f)),
                         self.ids_where(lambda row: 'F' in parts(
                             row['alembic_version']) | parts(
                             row['prev_alembic_version'])))
        self.assertEqual(len(self.ids(self.assertSucceeds(by_d))), 4)
        self.assertEqual(len(self.ids(self.assertSucceeds(by_whole))), 3)

    def test_schema(self):
        schema = inspect(self.db.engine).default_schema_name
        found, missing = self.main_many(
            ['history', '--url', self.db.url_text, '--format', 'csv',
             '--schema', schema],
            ['history', '--url', self.db.url_text, '--schema', 'no_such'])
        self.assertEqual(self.ids(self.assertSucceeds(found)),
                         list(range(1, 11)))
        self.assertFails(missing, hidden=self._passwords())

    def test_missing_table(self):
        self.assertFails(
            self.history('--table', 'no_such_table'), 'no_such_table',
            self.db.url.render_as_string(hide_password=True), '--table',
            hidden=self._passwords())

    def _passwords(self):
        return [self.db.url.password] if self.db.url.password else []


class OtherTableTest(CLITestCase):
    __backend__ = True

    def test_table_name_and_extra_columns(self):
        auditor = Auditor.create('2.0', table_name='deploy_log',
                                 extra_columns=[(Column('host', String(50)),
                                                 'build-7')])
        db = self.audited_database(GRAPH[:2], auditor=auditor)
        db.run('upgrade', 'head')
        as_table, as_json = self.main_many(*[
            ['history', '--url', db.url_text, '--table', 'deploy_log',
             '--format', output_format]
            for output_format in ('table', 'json')])
        headers, lines = parse_table(self.assertSucceeds(as_table))
        self.assertEqual(headers, HEADERS + ['host'])
        self.assertEqual([line[4:] for line in lines], [
            ['<base> -> A', '2.0', 'build-7'],
            ['A -> B', '2.0', 'build-7']])
        data = json.loads(self.assertSucceeds(as_json))
        self.assertEqual([item['host'] for item in data], ['build-7'] * 2)
        self.assertEqual(set(data[0]), set(COLUMNS) | {'host'})


class DetailsHistoryTest(CLITestCase):
    """A table of ``Auditor.create(details=True)``: two runs, the second
    with a failed attempt."""

    __backend__ = True

    def setUp(self):
        super().setUp()
        self.db = self.audited_database(
            [Rev('A'), Rev('B', 'A'),
             Rev('C', 'B', upgrade='raise ValueError("bad data in row 7")',
                 downgrade='pass')],
            auditor=Auditor.create('3.0', details=True))
        self.db.run('upgrade', 'B')
        with self.assertRaises(ValueError):
            self.db.run('upgrade', 'head')
        self.rows = self.db.rows()

    def history(self, *args):
        return self.main('history', '--url', self.db.url_text, *args)

    def test_table_sums_up_the_details(self):
        headers, lines = parse_table(self.assertSucceeds(self.history()))
        self.assertEqual(headers, HEADERS + ['status', 'run', 'took', 'by',
                                             'error'])
        by = '%s@%s' % (self.rows[0]['os_user'], self.rows[0]['host'])
        self.assertEqual([line[6:] for line in lines], [
            ['ok', row['run_id'][:8], '%d ms' % row['duration_ms'], by, '']
            for row in self.rows[:2]] + [
            ['failed', self.rows[2]['run_id'][:8],
             '%d ms' % self.rows[2]['duration_ms'], by,
             'ValueError: bad data in row 7']])

    def test_all_columns(self):
        headers, lines = parse_table(self.assertSucceeds(
            self.history('--all-columns')))
        self.assertEqual(headers[:6], HEADERS)
        self.assertEqual(headers[6:], [
            'run_id', 'status', 'db_user', 'os_user', 'host', 'duration_ms',
            'script_checksum', 'message', 'error', 'schema_hash', 'row_hash'])
        self.assertEqual([line[6] for line in lines],
                         [row['run_id'] for row in self.rows])
        self.assertEqual([line[12] for line in lines],
                         [row['script_checksum'] for row in self.rows])

    def test_json_has_every_column(self):
        data = json.loads(self.assertSucceeds(self.history('--format',
                                                           'json')))
        self.assertEqual(set(data[0]), set(self.rows[0]))
        self.assertEqual(data[2]['error'], 'ValueError: bad data in row 7')
        self.assertEqual(data[2]['status'], 'failed')

    def test_run_filter(self):
        first, second = self.rows[0]['run_id'], self.rows[2]['run_id']
        for run_id, expected in ((first, [1, 2]), (second, [3]),
                                 (second[:8], [3])):
            output = self.assertSucceeds(self.history(
                '--run', run_id, '--format', 'csv'))
            self.assertEqual([int(row[0]) for row in parse_csv(output)[1:]],
                             [self.rows[i - 1]['id'] for i in expected])
        _, lines = parse_table(self.assertSucceeds(self.history(
            '--run', 'ffffffff-0000')))
        self.assertEqual(lines, [])
        # As shown, in any case.
        output = self.assertSucceeds(self.history(
            '--run', second[:8].upper(), '--format', 'csv'))
        self.assertEqual(len(parse_csv(output)), 2)
        for garbage in ('zzzz-garbage', '', ' ', '%', 'a' * 37):
            self.assertUsageError(self.history('--run', garbage),
                                  'expected a run id or its start')

    def test_run_filter_needs_a_run_id_column(self):
        db = self.audited_database(GRAPH[:1], sqlite_file=True)
        db.run('upgrade', 'head')
        self.assertFails(self.main('history', '--url', db.url_text,
                                   '--run', 'abc'),
                         '--run needs column run_id')
