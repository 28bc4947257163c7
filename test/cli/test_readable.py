"""Readable output (issue 21): tables that fit the terminal, errors shown
by their cause, one run-id length and one arrow, revision prefixes, one
JSON document per command, URLs as written."""
import contextlib
import json
import os
import subprocess
from unittest import mock

from audit_alembic import Auditor
from audit_alembic.cli.output import table as aligned
from audit_alembic.cli.output.text import ARROW
from audit_alembic.cli.output.text import RUN_ID_SHOWN
from audit_alembic.cli.output.text import error_cause
from audit_alembic.masking import masked
from audit_alembic.testing.fixtures import Rev
from test.cli.support import CLITestCase
from test.cli.support import Utf8Stream
from test.cli.support import parse_table

LONG = 'a message long enough to need cutting on a narrow terminal ' * 2
#: ae1027 and ae2031 share a start; b7c9 is never applied.
GRAPH = [Rev('ae1027'),
         Rev('ae2031', 'ae1027',
             upgrade='op.execute("SELECT nosuchcol FROM alembic_version")',
             downgrade='pass'),
         Rev('b7c9', 'ae2031')]


class TtyStream(Utf8Stream):
    def isatty(self):
        return True


class ReadableOutputTest(CLITestCase):

    def setUp(self):
        super().setUp()
        self.db = self.audited_database(
            GRAPH, auditor=Auditor.create(LONG, details=True))
        self.db.run('upgrade', 'ae1027')
        with self.assertRaises(Exception):
            self.db.run('upgrade', 'ae2031')
        self.rows = self.db.rows()

    def on_terminal(self, columns, *args):
        """``main(args)`` writing to a terminal ``columns`` wide."""
        from audit_alembic.cli import main
        stdout, stderr = TtyStream(), Utf8Stream()
        size = os.terminal_size((columns, 24))
        with mock.patch('shutil.get_terminal_size', return_value=size), \
                contextlib.redirect_stdout(stdout), \
                contextlib.redirect_stderr(stderr):
            code = main(list(args))
        return subprocess.CompletedProcess(args, code, stdout.getvalue(),
                                           stderr.getvalue())

    def history(self, *args):
        return self.main('history', '--url', self.db.url_text, *args)

    def test_history_fits_the_terminal(self):
        out = self.assertSucceeds(self.on_terminal(
            130, 'history', '--url', self.db.url_text))
        lines = out.splitlines()
        self.assertTrue(all(len(line) <= 130 for line in lines), out)
        headers, rows = parse_table(out)
        version = rows[0][headers.index('user version')]
        self.assertTrue(version.endswith('\u2026'), version)
        self.assertTrue(LONG.startswith(version[:-1]))
        # Ids, revisions and times are never cut.
        self.assertEqual(rows[0][0], str(self.rows[0]['id']))
        self.assertIn('<base> %s ae1027' % ARROW, out)

    def test_wide_and_pipes_print_cells_whole(self):
        wide = self.assertSucceeds(self.on_terminal(
            100, 'history', '--url', self.db.url_text, '--wide'))
        piped = self.assertSucceeds(self.history())
        for out in (wide, piped):
            self.assertIn(LONG.strip(), out)
            self.assertNotIn('\u2026', out)

    def test_status_fits_the_terminal(self):
        out = self.assertSucceeds(self.on_terminal(
            170, 'status', '-c', self.db.env.ini_path))
        table = out.split('\n\n')[0]
        self.assertTrue(all(len(line) <= 170 for line in table.splitlines()),
                        out)
        self.assertIn('\u2026', table)
        wide = self.assertSucceeds(self.on_terminal(
            90, 'status', '-c', self.db.env.ini_path, '--wide'))
        self.assertIn(LONG.strip(), wide)

    def test_error_shows_its_cause(self):
        headers, rows = parse_table(self.assertSucceeds(self.history()))
        error = rows[-1][headers.index('error')]
        # The driver's own words, e.g. SQLite's "no such column:
        # nosuchcol", PostgreSQL's 'column "nosuchcol" does not exist'.
        self.assertIn('nosuchcol', error)
        self.assertNotIn('Error', error)
        if self.db.url.get_backend_name() == 'sqlite':
            self.assertEqual(error, 'no such column: nosuchcol')
        # JSON keeps the stored text.
        data = json.loads(self.assertSucceeds(self.history('--format',
                                                           'json')))
        self.assertEqual(data[-1]['error'], self.rows[-1]['error'])
        self.assertIn('OperationalError', data[-1]['error'])

    def test_one_run_id_length_and_arrow(self):
        run_id = self.rows[0]['run_id']
        history = self.assertSucceeds(self.history())
        status = self.assertSucceeds(self.main(
            'status', '-c', self.db.env.ini_path))
        for out in (history, status):
            self.assertIn(' %s ' % run_id[:RUN_ID_SHOWN], out)
            self.assertNotIn(run_id, out)
            self.assertIn(' %s ' % ARROW, out)
            self.assertNotIn('\u2192', out)

    def test_revision_prefixes(self):
        ae1, ae, nothing = [self.history('--revision', revision,
                                         '--format', 'json')
                            for revision in ('ae1', 'ae', 'zz')]
        self.assertEqual([row['alembic_version'] for row in json.loads(
            self.assertSucceeds(ae1))], [['ae1027'], ['ae2031']])
        # Exit 2: the command could not show what was asked.
        self.assertEqual((ae.returncode, ae.stdout), (2, ''))
        self.assertIn("'ae' is ambiguous", ae.stderr)
        self.assertIn('ae1027, ae2031', ae.stderr)
        self.assertEqual((nothing.returncode, nothing.stdout), (2, ''))
        self.assertIn("no revision 'zz'", nothing.stderr)

    def test_prefix_of_a_script_never_applied(self):
        unknown = self.history('--revision', 'b7')
        self.assertEqual(unknown.returncode, 2)
        scripts = os.path.dirname(self.db.env.versions)
        known = self.history('--revision', 'b7', '--script-location',
                             scripts, '--format', 'json')
        self.assertEqual(json.loads(self.assertSucceeds(known)), [])

    def test_json_is_one_document_jsonl_one_a_line(self):
        whole = self.assertSucceeds(self.history('--format', 'json'))
        lines = self.assertSucceeds(self.history('--format', 'jsonl'))
        # JSON lines: the rows' events, one a line (see test_json_shapes).
        self.assertEqual(
            [json.loads(line)['audit']['row_hash']
             for line in lines.splitlines()],
            [row['row_hash'] for row in json.loads(whole)])
        for command in (['status', '-c', self.db.env.ini_path],
                        ['verify', '-c', self.db.env.ini_path]):
            out = self.main(*command, '--format', 'json').stdout
            self.assertIsInstance(json.loads(out), dict)


class FitTest(CLITestCase):

    def test_widest_shrinkable_columns_are_cut_first(self):
        self.assertEqual(aligned.fit([5, 40, 8], [False, True, True], 40),
                         [5, 23, 8])
        self.assertEqual(aligned.fit([5, 40, 30], [False, True, True], 40),
                         [5, 16, 15])
        self.assertEqual(aligned.fit([5, 40], [False, True], None), [5, 40])
        # Never narrower than MIN_WIDTH (or the header): the line may
        # then be wider than the terminal.
        self.assertEqual(aligned.fit([50, 40], [False, True], 40),
                         [50, aligned.MIN_WIDTH])

    def test_error_cause(self):
        for stored, shown in (
                ('sqlalchemy.exc.OperationalError: (sqlite3.Operational'
                 'Error) no such column: nosuchcol',
                 'no such column: nosuchcol'),
                ('sqlalchemy.exc.IntegrityError: (psycopg.errors.Unique'
                 'Violation) duplicate key value', 'duplicate key value'),
                ('alembic.util.exc.CommandError: boom', 'CommandError: boom'),
                ('ValueError: bad data in row 7',
                 'ValueError: bad data in row 7'),
                ('free text: as it is', 'free text: as it is'),
                (None, None)):
            self.assertEqual(error_cause(stored), shown)


class UrlAsWrittenTest(CLITestCase):

    def test_urls_read_as_written(self):
        from sqlalchemy.engine import make_url
        for text, shown in (
                ('sqlite:///:memory:', 'sqlite:///:memory:'),
                ('postgresql+psycopg://me:s%40cret@db:5432/app?sslmode='
                 'require&application_name=my app&password=x',
                 'postgresql+psycopg://me:***@db:5432/app?sslmode=require'
                 '&application_name=my app&password=***'),
                ('postgresql+psycopg://me:pw@/app?host=/run/postgresql',
                 'postgresql+psycopg://me:***@/app?host=/run/postgresql')):
            self.assertEqual(masked(text), shown)
            self.assertEqual(masked(make_url(text)), shown)

    def test_memory_url_in_an_error(self):
        result = self.main('history', '--url', 'sqlite:///:memory:')
        self.assertNotEqual(result.returncode, 0)
        self.assertIn('sqlite:///:memory:', result.stderr)
        self.assertNotIn('%3A', result.stderr)
