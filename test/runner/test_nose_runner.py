"""./sqla_nose.py: bootstrap, test selection, options, coverage."""
import glob
import os
import re
import sys
import sysconfig
import time
import unittest

from test.runner.support import CheckoutTestMixin

SAMPLE = 'test.runner.sample.test_sample'
SAMPLE_TESTS = 4
TABLE_DEFINITION = \
    'test.audit.test_recording:RecordingTest.test_table_definition'


def ran(result):
    match = re.search(r'^Ran (\d+) tests?', result.output, re.M)
    return int(match.group(1)) if match else None


class NoseRunnerTest(CheckoutTestMixin, unittest.TestCase):
    def test_verbose_failing_run(self):
        # Names the target first; a failure makes the exit status 1 (the
        # run of test_selection_forms passes, with status 0).  Without
        # --log-* flags no log record reaches the console.  With
        # --processes 1 (see Checkout.nose) the tests run in the runner.
        noted = self.checkout.path('parents')
        result = self.checkout.nose(
            '-v', SAMPLE, TABLE_DEFINITION,
            env={'AUDIT_ALEMBIC_SAMPLE_FAIL': '1',
                 'AUDIT_ALEMBIC_SAMPLE_PARENT': noted})
        self.assertEqual(result.returncode, 1, result.output)
        with open(noted) as f:
            self.assertEqual(int(f.read()), os.getpid())
        lines = result.stderr.splitlines()
        self.assertEqual(lines[0], 'Database target: default (sqlite://)')
        self.assertRegex(lines[1], r'^test_\w+ .* \.\.\. (ok|FAIL)$')
        self.assertEqual(ran(result), SAMPLE_TESTS + 1)
        self.assertIn('FAILED (failures=1)', result.output)
        self.assertNotIn('audit_alembic.auditor', result.output)

    #: Test names in each form, and how many tests each names: a path
    #: relative to the current directory (test/runner), mod:Class.method,
    #: and a folder relative to test/ (a dotted module: the run of
    #: test_verbose_failing_run).
    FORMS = [
        ('sample/test_sample.py', SAMPLE_TESTS),
        (SAMPLE + ':SampleTest.test_fails_on_request', 1),
        ('runner/sample/', SAMPLE_TESTS),
        (TABLE_DEFINITION, 1),
    ]
    passing_run = None

    def run_passing(self):
        """One passing run, made once: every form of FORMS, from
        test/runner, with --log-* flags."""
        cls = type(self)
        if cls.passing_run is None:
            cls.passing_run = self.checkout.nose(
                '-v', *[name for name, _ in self.FORMS],
                '--log-debug=audit_alembic', '--log-info=sqlalchemy.engine',
                cwd=self.checkout.path('test', 'runner'))
        self.assertEqual(cls.passing_run.returncode, 0,
                         cls.passing_run.output)
        return cls.passing_run

    def test_selection_forms(self):
        result = self.run_passing()
        self.assertEqual(ran(result), sum(count for _, count in self.FORMS),
                         result.output)
        # (Log records may follow a test's name on its line.)
        names = re.findall(r'^(test_\w+) \(.*\) \.\.\. ', result.stderr,
                           re.M)
        self.assertEqual(names.count('test_fails_on_request'), 3,
                         result.stderr)
        self.assertEqual(names.count('test_crashes_on_request'), 2,
                         result.stderr)
        self.assertEqual(names.count('test_table_definition'), 1,
                         result.stderr)

    def test_names_matching_nothing(self):
        from audit_alembic.testing.plugin.noseplugin import name_exists
        from audit_alembic.testing.plugin.noseplugin import normalize_name
        for name in ('test.runner.nope', SAMPLE + ':Nope',
                     SAMPLE + ':SampleTest.test_nope', 'nowhere/'):
            with self.subTest(name=name):
                self.assertFalse(name_exists(normalize_name(name)))
        self.assertTrue(name_exists(SAMPLE + '.SampleTest'))
        result = self.checkout.nose('nowhere/')
        self.assertOneLineError(result, "no test matches 'nowhere/'")

    def test_sigterm_stops_the_run_and_drops_its_database(self):
        self.checkout.write_test_cfg('[db]\nfile = sqlite:///%s\n'
                                     % self.checkout.path('term.db'))
        hanging = self.checkout.path('hanging')
        process = self.checkout.start(
            sys.executable, self.checkout.path('sqla_nose.py'), '--db',
            'file', SAMPLE, env={'AUDIT_ALEMBIC_SAMPLE_CRASH': 'hang',
                                 'AUDIT_ALEMBIC_SAMPLE_HANGING': hanging})
        self.addCleanup(process.kill)
        deadline = time.monotonic() + 60
        while not os.path.exists(hanging) and time.monotonic() < deadline:
            time.sleep(0.05)
        pattern = self.checkout.path('test_aa_*.db')
        self.assertTrue(glob.glob(pattern), 'the run made no database')
        process.terminate()
        self.assertNotEqual(process.wait(timeout=60), 0)
        self.assertEqual(glob.glob(pattern), [])

    def test_help_lists_the_options_under_their_heading(self):
        result = self.checkout.nose('--help')
        self.assertEqual(result.returncode, 0)
        self.assertTrue(result.stdout.startswith('usage: sqla_nose.py '))
        section = result.stdout.split('\naudit-alembic:\n', 1)[1]
        for option in ('--db NAME', '--dburi URL', '--dbs', '--dropfirst',
                       '--log-info LOGGER', '--log-debug LOGGER'):
            self.assertIn(option, section)

    def test_log_flags(self):
        # test_verbose_failing_run shows the same test quiet without them.
        result = self.run_passing()
        self.assertRegex(result.stderr,
                         r"DEBUG audit_alembic.auditor recorded up step")
        self.assertRegex(result.stderr,
                         r'INFO sqlalchemy.engine.Engine \s*CREATE TABLE')
        self.assertNotRegex(result.stderr, r'DEBUG sqlalchemy')

    def test_coverage_counts_import_time_lines(self):
        self.assertCoversImportTimeLines(
            self.checkout.nose('--with-coverage', 'test.audit.test_api'))


class SqliteFallbackTest(CheckoutTestMixin, unittest.TestCase):
    """A Python without sqlite3: simulated by a module that fails to import."""

    def setUp(self):
        super().setUp()
        self.no_sqlite = self.checkout.path(
            'no_sqlite_' + self._testMethodName)
        os.makedirs(os.path.join(self.no_sqlite, 'sqlite3'))
        with open(os.path.join(self.no_sqlite, 'sqlite3', '__init__.py'),
                  'w') as f:
            f.write('raise ImportError("built without sqlite3")\n')

    def test_says_how_to_install_a_replacement(self):
        # pysqlite3 may well be installed: hide it too.
        os.makedirs(os.path.join(self.no_sqlite, 'pysqlite3'))
        with open(os.path.join(self.no_sqlite, 'pysqlite3', '__init__.py'),
                  'w') as f:
            f.write('raise ImportError("not installed")\n')
        result = self.checkout.nose(SAMPLE,
                                    env={'PYTHONPATH': self.no_sqlite})
        self.assertNotEqual(result.returncode, 0)
        self.assertNotIn('Traceback', result.output)
        self.assertIn("pip install 'pysqlite3-binary'", result.stderr)

    def test_falls_back_to_pysqlite3(self):
        # A stand-in pysqlite3 made of the standard library's own module.
        package = os.path.join(self.no_sqlite, 'pysqlite3')
        os.makedirs(package, exist_ok=True)
        stdlib = os.path.join(sysconfig.get_paths()['stdlib'], 'sqlite3')
        with open(os.path.join(stdlib, 'dbapi2.py')) as f:
            dbapi2 = f.read()
        with open(os.path.join(package, 'dbapi2.py'), 'w') as f:
            f.write(dbapi2)
        with open(os.path.join(package, '__init__.py'), 'w') as f:
            f.write('from pysqlite3.dbapi2 import *  # noqa\n'
                    'from pysqlite3 import dbapi2  # noqa\n')
        result = self.checkout.nose('-v', SAMPLE,
                                    env={'PYTHONPATH': self.no_sqlite})
        self.assertEqual(result.returncode, 0, result.output)
        self.assertEqual(ran(result), SAMPLE_TESTS)


if sys.platform == 'win32':  # pragma: no cover
    raise unittest.SkipTest('the runner tests use POSIX paths')
