"""``audit-alembic report``: one self-contained HTML page of the history,
on tables written by real Alembic runs."""
import datetime
import os
import re
import shutil
import tempfile
from unittest import mock

from sqlalchemy import text
from sqlalchemy.engine import make_url

from audit_alembic import Auditor
from audit_alembic import masking
from audit_alembic.cli import report
from audit_alembic.cli.output import timeline
from audit_alembic.cli.runs import group_runs
from audit_alembic.cli.runs import revision_ranks
from audit_alembic.testing.fixtures import Rev
from test.cli.support import AuditedDatabase
from test.cli.support import CLITestCase
from test.cli.test_custom_tables import NAMES
from test.cli.test_custom_tables import OPTIONS
from test.runner.test_masking import WRITTEN_PASSWORDS
from test.runner.test_masking import secret_pieces
from test.runner.test_masking import url_with_password

#: A revision script line that raises while ``config.attributes['fail']``
#: is set, and passes otherwise.
FAIL_IF_ASKED = ('if op.get_context().config.attributes.get("fail"): '
                 'raise RuntimeError("asked to fail")\n    ')
GRAPH = [Rev('A'), Rev('B', 'A', upgrade=FAIL_IF_ASKED + 'pass'),
         Rev('C', 'B')]
#: Text that must show as text: markup, quotes, control characters.
HOSTILE = '<script>alert("x")</script> \'q\' &amp; \x1b[2J\x07 <i>'
#: What a page may refer to: nothing outside itself.
EXTERNAL = re.compile(
    r'''(?:src|href|xlink:href|action)\s*=\s*["']?\s*(?:[a-z]+:|//)'''
    r'''|@import|url\(\s*["']?\s*(?!data:|#)''', re.I)


def runs_of(page):
    """``(outcome, anchor)`` of each run in the runs table, in order."""
    return re.findall(r'<tbody class="run (\w+)" id="run-([^"]+)">', page)


def marks_of(page):
    """The classes of the timeline's marks."""
    return re.findall(r'<(?:a|g) class="mark ([\w ]+)"', page)


def external_references(page):
    """Whatever in ``page`` would make a browser ask for something."""
    return EXTERNAL.findall(page)


class ReportTestBase(CLITestCase):
    def report(self, *args):
        """Run ``report ARGS -o -``; the page."""
        return self.assertSucceeds(self.main('report', *args, '-o', '-'))


class ReportTest(ReportTestBase):
    """One history on each database: upgrade A, a failed attempt at B
    (one step, so that every database keeps the same rows), upgrade
    head, downgrade -1, stamp head."""

    __backend__ = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.db = AuditedDatabase(cls.class_target(), GRAPH,
                                 auditor=Auditor.create('1.0', details=True))
        try:
            cls.db.run('upgrade', 'A')
            cls.db.env.config.attributes['fail'] = True
            try:
                cls.db.run('upgrade', 'B')
            except RuntimeError:
                pass
            del cls.db.env.config.attributes['fail']
            for command in (('upgrade', 'head'), ('downgrade', '-1'),
                            ('stamp', 'head')):
                cls.db.run(*command)
            cls.rows = cls.db.rows()
        except BaseException:
            cls.db.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.db.close()
        super().tearDownClass()

    def page(self, *args):
        return self.report('-c', self.db.env.ini_path, *args)

    def test_the_runs_newest_first(self):
        page = self.page()
        runs = runs_of(page)
        self.assertEqual([outcome for outcome, _ in runs],
                         ['ok', 'ok', 'ok', 'failed', 'ok'])
        run_ids = []
        for row in self.rows:
            if row['run_id'] not in run_ids:
                run_ids.append(row['run_id'])
        self.assertEqual([anchor for _, anchor in runs],
                         list(reversed(run_ids)))
        # The same page on every database: from -> to and steps per run.
        cells = re.findall(r'<td class="from">([^<]*)</td><td class="steps">'
                           r'(\d+)</td>', page)
        self.assertEqual(cells, [
            ('B -&gt; C', '1'), ('C -&gt; B', '1'), ('A -&gt; C', '2'),
            ('A -&gt; A', '1'), ('&lt;base&gt; -&gt; A', '1')])
        self.assertIn('asked to fail', page)
        self.assertIn('<tr class="failed">', page)

    def test_one_mark_per_run(self):
        page = self.page()
        self.assertEqual(sorted(marks_of(page)),
                         sorted(outcome for outcome, _ in runs_of(page)))
        self.assertIn('data-marks="one mark per run"', page)
        for _, anchor in runs_of(page):
            self.assertIn('href="#run-%s"' % anchor, page)

    def test_summary(self):
        page = self.page()
        self.assertIn('C <span class="good">at the head of the scripts',
                      page)
        self.assertIn('<span class="good">passed</span>', page)
        self.assertIn('<code>aa-digest-1 table=alembic_version_history '
                      'rows=%d last=' % len(self.rows), page)
        self.assertIn('<dt>Database</dt><dd>%s</dd>'
                      % masking.masked(self.db.url).replace('<', '&lt;'),
                      page)
        if self.db.url.password:
            self.assertNotIn(self.db.url.password, page)
            self.assertIn(':***@', page)

    def test_nothing_external(self):
        page = self.page()
        self.assertEqual(external_references(page), [])
        self.assertEqual(page.count('<script'), 1)
        self.assertIn("default-src 'none'", page)
        self.assertNotIn('http://', page.replace(
            'http://www.w3.org/2000/svg', ''))
        self.assertNotIn('https://', page)

    def test_bounds(self):
        page = self.page('--last', '2')
        self.assertEqual(len(runs_of(page)), 2)
        self.assertIn('Shown: the newest 2 rows; the history holds more.',
                      page)
        later = datetime.datetime.now() + datetime.timedelta(days=2)
        page = self.page('--since', later.strftime('%Y-%m-%d'))
        self.assertEqual(runs_of(page), [])
        self.assertIn('No run to show', page)

    def test_row_limit(self):
        with mock.patch.object(report, 'ROW_LIMIT', 3), \
                mock.patch.object(report, 'VERIFY_LIMIT', 3):
            page = self.page()
        self.assertIn('The history holds more than 3 rows: this page shows '
                      'the newest 3.', page)
        self.assertIn('not run: the table holds more than 3 rows', page)
        self.assertIn('not taken: the table holds more than 3 rows', page)
        self.assertIn('(the newest; the history holds more)', page)
        with mock.patch.object(report, 'ROW_LIMIT', 3), \
                mock.patch.object(report, 'VERIFY_LIMIT', 3):
            page = self.page('--verify')
        self.assertIn('<span class="good">passed</span>', page)
        self.assertIn('<code>aa-digest-1 ', page)

    def test_days_beyond_what_fits(self):
        with mock.patch.object(timeline, 'MAX_MARKS', 2):
            page = self.page()
        self.assertEqual(marks_of(page), ['day failed'])
        self.assertIn('one bar per day', page)

    def test_to_a_file(self):
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory)
        result = self.main('report', '-c', self.db.env.ini_path,
                           '--title', 'prod <billing>', '--no-verify',
                           cwd=directory)
        self.assertEqual(self.assertSucceeds(result),
                         'wrote audit-report.html: 5 runs, %d rows\n'
                         % len(self.rows))
        with open(os.path.join(directory, 'audit-report.html'),
                  encoding='utf-8') as f:
            page = f.read()
        self.assertIn('<title>prod &lt;billing&gt;</title>', page)
        self.assertIn('not run: ', page)

    def test_read_only(self):
        before = self.db.contents()
        self.page('--verify')
        self.assertEqual(self.db.contents(), before)


class HostileValuesTest(ReportTestBase):
    """Markup, quotes and control characters stored in the table show as
    text."""

    __backend__ = True

    def test_escaped(self):
        db = self.audited_database(
            [Rev('A')], auditor=Auditor.create(HOSTILE, details=True))
        db.run('upgrade', 'head')
        with db.engine.begin() as connection:
            connection.execute(text(
                'UPDATE alembic_version_history SET message = :value, '
                'error = :value, os_user = :value'), {'value': HOSTILE})
        page = self.report('--url', db.url_text)
        self.assertEqual(page.count('<script'), 1)
        self.assertNotIn('<i>', page)
        self.assertNotIn('\x1b', page)
        self.assertNotIn('\x07', page)
        shown = ('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; '
                 '&#x27;q&#x27; &amp;amp; \\x1b[2J\\x07 &lt;i&gt;')
        self.assertGreaterEqual(page.count(shown), 5)
        # The chain no longer holds: verify's verdict says so.
        self.assertIn('<span class="bad">FAILED: chain</span>', page)
        self.assertEqual(external_references(page), [])


class OldTableTest(ReportTestBase):
    """A table of 0.2.0's shape: each row its own run, only the columns
    it has."""

    __backend__ = True

    def test_old_table(self):
        db = self.audited_database([Rev('A'), Rev('B', 'A')],
                                   auditor=Auditor.create('0.2'))
        db.run('upgrade', 'head')
        db.run('downgrade', 'A')
        page = self.report('--url', db.url_text)
        self.assertEqual([outcome for outcome, _ in runs_of(page)],
                         ['ok'] * 3)
        self.assertEqual(len(marks_of(page)), 3)
        self.assertIn('<th scope="col">App version</th>', page)
        for header in ('Who', 'DB user', 'Duration', 'Checksum', 'Error'):
            self.assertNotIn('<th scope="col">%s</th>' % header, page)
        self.assertIn('none: the table has no row_hash column', page)
        self.assertIn('<span class="good">passed</span>', page)


class CustomColumnsTest(ReportTestBase):
    __backend__ = True

    def test_custom_names(self):
        db = self.audited_database(
            [Rev('A'), Rev('B', 'A')],
            auditor=Auditor.create('app 3', details=True, **NAMES))
        db.run('upgrade', 'head')
        page = self.report('--url', db.url_text, *OPTIONS)
        self.assertEqual(len(runs_of(page)), 1)
        self.assertIn('&lt;base&gt; -&gt; B', page)
        self.assertIn('app 3', page)
        self.assertIn('table=schema_history', page)
        result = self.main('report', '--url', db.url_text, '-o', '-')
        self.assertEqual(result.returncode, 2)
        self.assertIn('no table alembic_version_history', result.stderr)


class ErrorsTest(ReportTestBase):
    def setUp(self):
        self.db = self.audited_database([Rev('A')], sqlite_file=True)
        self.db.run('upgrade', 'head')

    def assertOneLine(self, result, *fragments):
        self.assertEqual(result.returncode, 2, result.stdout)
        self.assertNotIn('Traceback', result.stderr)
        lines = [line for line in result.stderr.splitlines()
                 if line.startswith('audit-alembic')]
        self.assertEqual(len(lines), 1, result.stderr)
        for fragment in fragments:
            self.assertIn(fragment, lines[0])

    def test_bad_input(self):
        url = self.db.url_text
        missing = os.path.join(self.db.directory, 'no', 'page.html')
        self.assertOneLine(self.main('report', '--url', url, '-o', missing),
                           'cannot write', 'no directory')
        self.assertOneLine(self.main('report', '--url', url, '-o',
                                     self.db.directory), 'a directory')
        self.assertOneLine(self.main('report', '--url', url, '--since',
                                     'yesterday'), '--since')
        self.assertOneLine(self.main('report', '--url', url, '--table',
                                     'nope', '-o', '-'), 'no table nope')
        self.assertFalse(os.path.exists('audit-report.html'))

    def test_passwords_never_show(self):
        from audit_alembic.engines import connect
        real = make_url(self.db.url_text)
        for written in WRITTEN_PASSWORDS:
            shown = url_with_password(written)
            with self.subTest(url=shown), mock.patch.object(
                    report.database, 'connect', lambda url: connect(real)):
                # The page of a URL with this password, read from the
                # SQLite file instead; a URL that cannot be read is one
                # line.
                result = self.main('report', '--url', shown, '-o', '-')
                if result.returncode:
                    self.assertOneLine(result, 'malformed URL')
                else:
                    self.assertIn('postgresql+psycopg://scott:***@',
                                  self.assertSucceeds(result))
                for piece in secret_pieces(written):
                    self.assertNotIn(piece, result.stdout + result.stderr)


class ExternalReferencesTest(CLITestCase):
    def test_what_the_check_finds(self):
        for found in ('<img src="https://cdn.example/x.png">',
                      "<script src='//cdn.example/a.js'>",
                      '<link href=http://x/y.css>', '@import "a.css";',
                      'background: url(https://x/y.png)',
                      '<a xlink:href="ftp://x">', 'url( "//x/y.woff")'):
            self.assertTrue(external_references(found), found)
        for harmless in ('<a href="#run-1">', 'url(#gradient)',
                         'url(data:image/png;base64,AAAA)',
                         'https is a word'):
            self.assertFalse(external_references(harmless), harmless)


class TimelineScaleTest(CLITestCase):
    def test_ten_thousand_runs(self):
        start = datetime.datetime(2024, 1, 1)
        rows = [{'id': i, 'run_id': None, 'changed_at': start +
                 datetime.timedelta(hours=i), 'alembic_version': 'r%d' % i,
                 'prev_alembic_version': 'r%d' % (i - 1), 'status':
                 'failed' if i % 97 == 0 else 'ok', 'duration_ms': i % 500}
                for i in range(10000)]
        runs = group_runs(rows)
        svg = timeline.timeline_svg(runs, revision_ranks(
            runs, lambda value: value.split('##') if value else []), '##')
        marks = marks_of(svg)
        self.assertLessEqual(len(marks), timeline.MAX_MARKS)
        self.assertEqual(len(marks), 417 // 2 + 1)  # 417 days, 2 per bar
        self.assertIn('failed', ' '.join(marks))
