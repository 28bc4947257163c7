"""``audit-alembic report``'s page of the demo's database, in headless
Chromium: it loads with no error and no request, shows the runs and the
failed attempt, one timeline mark per run, filters, prints, and reads
without scripts."""
import contextlib
import io
import os
import shutil
import tempfile

from audit_alembic.cli import main
from audit_alembic.cli.demo import show_demo
from test.browser.support import BrowserTestCase

#: The demo's runs: upgrade head (its last step fails), upgrade head
#: again, downgrade -1 (after the drift it made), stamp head.
RUNS = 4


def demo_report(directory):
    """Build the demo's project in ``directory``/demo and write its
    report; the page's path."""
    project = os.path.join(directory, 'demo')
    show_demo(keep=project, out=io.StringIO())
    path = os.path.join(directory, 'report.html')
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(['report', '-c', os.path.join(project, 'alembic.ini'),
                       '-o', path])
    assert status == 0, err.getvalue()
    return path


class DemoReportPageTest(BrowserTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.directory = tempfile.mkdtemp(prefix='audit_alembic_report_')
        try:
            cls.path = demo_report(cls.directory)
        except BaseException:
            shutil.rmtree(cls.directory, ignore_errors=True)
            super().tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.directory, ignore_errors=True)
        super().tearDownClass()

    def setUp(self):
        self.page = self.open_page(self.path)

    def test_loads_with_no_error_and_no_request(self):
        self.assertEqual(self.page.title(),
                         'Audit trail of alembic_version_history')
        self.assertEqual(self.errors, [])
        self.assertEqual(self.requests, ['file://' + self.path])

    def test_runs_and_the_failed_attempt(self):
        runs = self.page.locator('tbody.run')
        self.assertEqual(runs.count(), RUNS)
        failed = self.page.locator('tbody.run.failed')
        self.assertEqual(failed.count(), 1)
        self.assertIn('FAILED', failed.locator('td.outcome').inner_text())
        step = failed.locator('table.steps tr.failed')
        self.assertFalse(step.is_visible())
        failed.locator('summary').click()
        self.assertTrue(step.is_visible())
        self.assertIn('on purpose', step.inner_text())
        self.assertIn('passed', self.page.locator('dl.summary').inner_text())

    def test_one_mark_per_run(self):
        marks = self.page.locator('svg.timeline .mark')
        self.assertEqual(marks.count(), RUNS)
        self.assertEqual(self.page.locator('svg.timeline .mark.failed')
                         .count(), 1)
        self.page.keyboard.press('Tab')
        self.page.keyboard.press('Tab')
        focused = self.page.evaluate(
            'document.activeElement.getAttribute("class")')
        self.assertTrue(focused.startswith('mark '), focused)
        title = marks.first.locator('title').text_content()
        self.assertIn('run ', title)
        self.assertIn(' -> ', title)
        self.assertEqual(self.errors, [])

    def test_the_filter_narrows_the_table(self):
        box = self.page.locator('#filter-text')
        self.assertTrue(box.is_visible())
        box.fill('on purpose')
        visible = self.page.locator('tbody.run:visible')
        self.assertEqual(visible.count(), 1)
        self.assertEqual(visible.first.get_attribute('class'), 'run failed')
        self.assertEqual(self.page.locator('#filter-count').inner_text(),
                         '1 of %d runs' % RUNS)
        box.fill('nothing has this text')
        self.assertEqual(visible.count(), 0)
        box.fill('')
        self.assertEqual(visible.count(), RUNS)
        self.assertEqual(self.errors, [])

    def test_prints_every_step(self):
        self.page.emulate_media(media='print')
        self.assertTrue(self.page.locator('tr.failed').first.is_visible())
        self.assertFalse(self.page.locator('#filter').is_visible())
        self.screenshot(self.page, 'report-demo-print.png')

    def test_reads_without_scripts(self):
        context = self.browser.new_context(java_script_enabled=False)
        self.addCleanup(context.close)
        page = context.new_page()
        page.goto('file://' + self.path)
        self.assertEqual(page.locator('tbody.run:visible').count(), RUNS)
        self.assertFalse(page.locator('#filter').is_visible())
        page.locator('tbody.run.failed summary').click()
        self.assertTrue(page.locator('tr.failed').first.is_visible())

    def test_screenshot(self):
        # The whole page; and the first screen with the failed attempt
        # opened (README.rst's docs/report.png).
        path = self.screenshot(self.page, 'report-demo.png')
        self.assertGreater(os.path.getsize(path), 10000)
        self.page.evaluate('document.querySelector('
                           '"tbody.run.failed details").open = true')
        self.page.evaluate('window.scrollTo(0, 0)')
        path = self.screenshot(self.page, 'report.png', full_page=False)
        self.assertGreater(os.path.getsize(path), 10000)
