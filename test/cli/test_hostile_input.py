"""``audit-alembic`` given what it does not expect: passwords of every
shape, out-of-range arguments, odd stored values, terminal escapes."""
import importlib.util
import json
import os
import tempfile

from sqlalchemy import JSON
from sqlalchemy import Boolean
from sqlalchemy import Column
from sqlalchemy import Numeric
from sqlalchemy import text

from audit_alembic import Auditor
from audit_alembic import masking
from audit_alembic.testing.fixtures import Rev
from test.cli.support import CLITestCase
from test.cli.support import parse_csv
from test.cli.support import parse_table
from test.runner.test_masking import WRITTEN_PASSWORDS
from test.runner.test_masking import closed_port
from test.runner.test_masking import secret_pieces
from test.runner.test_masking import url_with_password

#: Text that would drive a terminal: clear the screen, move the cursor,
#: ring the bell, set the window title, reverse what follows.
ESCAPES = '\x1b[2J\x1b[1;1Hok\x07\x1b]0;pwned\x07\u202eevil\r\n\tend'
ESCAPED = r'\x1b[2J\x1b[1;1Hok\x07\x1b]0;pwned\x07\u202eevil\r\n\tend'


class HostilePasswordTest(CLITestCase):
    def assertFailsHiding(self, result, written, *fragments):
        message = self.assertFails(result, *fragments)
        for piece in secret_pieces(written):
            self.assertNotIn(piece, result.stdout + result.stderr)
        return message

    def test_urls_that_cannot_be_read(self):
        for written in WRITTEN_PASSWORDS:
            url = url_with_password(written)
            if not masking.password_holds_at(url) and \
                    written != 'Tq7@Wk4:Xr9':
                continue
            with self.subTest(url=url):
                message = self.assertFailsHiding(
                    self.main('history', '--url', url), written,
                    'malformed URL', 'postgresql+psycopg://***@')
                self.assertIn('%40', message)

    def test_server_that_cannot_be_reached(self):
        if importlib.util.find_spec('psycopg') is None:
            self.skipTest('needs psycopg')
        port = closed_port()
        for written in WRITTEN_PASSWORDS:
            url = url_with_password(written, '127.0.0.1', port)
            if masking.password_holds_at(url):
                continue
            with self.subTest(url=url):
                self.assertFailsHiding(
                    self.main('history', '--url', url), written,
                    'cannot connect to postgresql+psycopg://scott:***@'
                    '127.0.0.1:%d/test' % port)

    def test_config_file(self):
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, 'alembic.ini')
            for written in ('Tq7@Wk4:Xr9', 'Tq7@Wk4@Xr9', 'Tq7@Wk4/Xr9'):
                with open(path, 'w') as f:
                    f.write('[alembic]\nsqlalchemy.url = %s\n'
                            % url_with_password(written))
                with self.subTest(password=written):
                    self.assertFailsHiding(
                        self.main('history', '-c', path), written,
                        'malformed URL', 'sqlalchemy.url of')
                with open(path, 'w') as f:
                    f.write('[alembic]\nsqlalchemy.url = %s\nno option\n'
                            % url_with_password(written))
                with self.subTest(password=written, line='no option'):
                    self.assertFailsHiding(
                        self.main('history', '-c', path), written,
                        'cannot read', 'line 3')


class ArgumentRangeTest(CLITestCase):
    def test_out_of_range_arguments_are_usage_errors(self):
        db = self.audited_database([Rev('A')], sqlite_file=True)
        db.run('upgrade', 'head')
        for args, fragment in (
                (['--last', '10000000000000000000'], '--last'),
                (['--last', '9223372036854775808'], '9223372036854775807'),
                (['--since', '0001-01-01T00:00+14:00'], 'out of range'),
                (['--since', '9999-12-31T23:00-05:00'], 'out of range')):
            with self.subTest(args=args):
                result = self.main('history', '--url', db.url_text, *args)
                self.assertUsageError(result, fragment)
                self.assertEqual(
                    [line for line in result.stderr.splitlines()
                     if 'error' in line],
                    [line for line in result.stderr.splitlines()
                     if line.startswith('audit-alembic history: error: ')])


class ExtremeArgumentsTest(CLITestCase):
    """The largest ``--last`` and the earliest and latest ``--since``
    that the command takes work on every database."""

    __backend__ = True

    def test_extremes(self):
        db = self.audited_database([Rev('A'), Rev('B', 'A')])
        db.run('upgrade', 'head')
        for args, count in (
                (['--last', '9223372036854775807'], 2),
                (['--since', '0001-01-01'], 2),
                (['--since', '0001-01-01T00:00-10:00'], 2),
                (['--since', '9999-12-31T23:59:59.999999'], 0),
                (['--since', '9999-12-31T23:59+14:00'], 0)):
            with self.subTest(args=args):
                rows = parse_csv(self.assertSucceeds(self.main(
                    'history', '--url', db.url_text, '--format', 'csv',
                    *args)))
                self.assertEqual(len(rows) - 1, count, rows)


class OddStoredValuesTest(CLITestCase):
    """Values a history table should not hold are shown as they are."""

    __backend__ = True

    def formats(self, db, *args):
        """The output of every format: table rows, JSON objects, CSV
        rows as dicts."""
        def run(output_format):
            return self.assertSucceeds(self.main(
                'history', '--url', db.url_text, '--format', output_format,
                *args))
        headers, rows = parse_table(run('table'))
        table = [dict(zip(headers, row)) for row in rows]
        csv_rows = parse_csv(run('csv'))
        return (table, json.loads(run('json')),
                [dict(zip(csv_rows[0], row)) for row in csv_rows[1:]])

    def test_sqlite(self):
        if self.url.get_backend_name() != 'sqlite':
            self.skipTest('typed columns elsewhere hold no such values')
        auditor = Auditor.create('1.0', extra_columns=[
            (Column('amount', Numeric(10, 2)), 12),
            (Column('details', JSON), {'a': [1]}),
            (Column('ok', Boolean), True)])
        db = self.audited_database([Rev('A'), Rev('B', 'A')],
                                   auditor=auditor)
        db.run('upgrade', 'head')
        with db.engine.begin() as connection:
            connection.execute(text(
                "UPDATE alembic_version_history SET changed_at = 'garbage', "
                "amount = 'lots', details = '{not json', ok = 'maybe' "
                "WHERE alembic_version = 'A'"))
        for args in ([], ['--last', '5']):
            table, objects, csv_rows = self.formats(db, *args)
            with self.subTest(args=args):
                self.assertEqual(
                    [[row[k] for k in ('time (UTC)', 'amount', 'details',
                                       'ok')] for row in table],
                    [['garbage', 'lots', '{not json', 'maybe'],
                     [table[1]['time (UTC)'], '12.00', "{'a': [1]}",
                      'True']])
                self.assertRegex(table[1]['time (UTC)'],
                                 r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$')
                self.assertEqual(
                    [[row[k] for k in ('changed_at', 'amount', 'details',
                                       'ok')] for row in objects],
                    [['garbage', 'lots', '{not json', 'maybe'],
                     [objects[1]['changed_at'], '12.00', {'a': [1]}, True]])
                self.assertTrue(objects[1]['changed_at'].endswith('+00:00'))
                self.assertEqual(
                    [[row[k] for k in ('changed_at', 'amount', 'details',
                                       'ok')] for row in csv_rows],
                    [['garbage', 'lots', '{not json', 'maybe'],
                     [objects[1]['changed_at'], '12.00', "{'a': [1]}",
                      'True']])

    def test_postgresql_infinite_and_far_times(self):
        if self.url.get_backend_name() != 'postgresql':
            self.skipTest('only PostgreSQL stores such times')
        db = self.audited_database([Rev('A'), Rev('B', 'A'), Rev('C', 'B'),
                                    Rev('D', 'C')])
        db.run('upgrade', 'head')
        normal = db.rows()[3]['changed_at']
        odd = ['infinity', '-infinity', '20000-01-01 00:00:00']
        with db.engine.begin() as connection:
            for revision, value in zip('ABC', odd):
                connection.execute(text(
                    'UPDATE alembic_version_history SET changed_at = :value '
                    'WHERE alembic_version = :revision'),
                    {'value': value, 'revision': revision})
        for args in ([], ['--last', '4']):
            table, objects, csv_rows = self.formats(db, *args)
            with self.subTest(args=args):
                self.assertEqual(
                    [row['time (UTC)'] for row in table],
                    odd + [normal.strftime('%Y-%m-%d %H:%M:%S')])
                iso = normal.isoformat(timespec='microseconds') + '+00:00'
                self.assertEqual([row['changed_at'] for row in objects],
                                 odd + [iso])
                self.assertEqual([row['changed_at'] for row in csv_rows],
                                 odd + [iso])

    def test_mysql_zero_dates(self):
        if self.url.get_backend_name() not in ('mysql', 'mariadb'):
            self.skipTest('only MySQL and MariaDB store zero dates')
        db = self.audited_database([Rev('A')])
        db.run('upgrade', 'head')
        with db.engine.begin() as connection:
            connection.execute(text("SET SESSION sql_mode = ''"))
            connection.execute(text(
                "UPDATE alembic_version_history SET changed_at = "
                "'0000-00-00 00:00:00'"))
        table, objects, csv_rows = self.formats(db)
        self.assertEqual(table[0]['time (UTC)'],
                         '0000-00-00 00:00:00.000000')
        self.assertEqual(objects[0]['changed_at'],
                         '0000-00-00 00:00:00.000000')
        self.assertEqual(csv_rows[0]['changed_at'],
                         '0000-00-00 00:00:00.000000')


class TerminalEscapesTest(CLITestCase):
    """Control characters stored in the table reach the terminal escaped;
    JSON and CSV carry them as they are."""

    __backend__ = True

    def test_escapes(self):
        db = self.audited_database([Rev('A')], user_version=ESCAPES)
        db.run('upgrade', 'head')
        with db.engine.begin() as connection:
            connection.execute(text(
                "UPDATE alembic_version_history SET prev_alembic_version = "
                ":value"), {'value': 'X\x1b[8mY##Z\x07'})
        self.assertEqual(db.rows()[0]['user_version'], ESCAPES)
        args = ['history', '--url', db.url_text]
        table = self.assertSucceeds(self.main(*args))
        self.assertNotIn('\x1b', table)
        self.assertNotIn('\x07', table)
        self.assertNotIn('\u202e', table)
        headers, rows = parse_table(table)
        self.assertEqual(len(rows), 1, table)
        self.assertEqual(rows[0][headers.index('user version')], ESCAPED)
        steps = [h for h in headers if h.startswith('from ')]
        arrow = steps[0].split()[1]  # as the output's encoding allows
        self.assertEqual(rows[0][headers.index(steps[0])],
                         r'X\x1b[8mY, Z\x07 %s A' % arrow)
        objects = json.loads(self.assertSucceeds(self.main(
            *args, '--format', 'json')))
        self.assertEqual(objects[0]['user_version'], ESCAPES)
        self.assertEqual(objects[0]['prev_alembic_version'],
                         ['X\x1b[8mY', 'Z\x07'])
        csv_rows = parse_csv(self.assertSucceeds(self.main(
            *args, '--format', 'csv')))
        self.assertEqual(
            csv_rows[1][csv_rows[0].index('user_version')], ESCAPES)
