"""./sqla_nose.py: bootstrap, test selection, options, coverage."""
import glob
import os
import re
import shutil
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
        from audit_alembic.testing.plugin.noseselect import name_exists
        from audit_alembic.testing.plugin.noseselect import normalize_name
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

    def test_log_records_show_once(self):
        # nose2 puts a console handler of its own on the root logger.
        result = self.run_passing()
        self.assertEqual(result.stderr.count('recorded up step'), 1,
                         result.stderr)

    def test_verbose_run_in_workers_names_each_test_once(self):
        result = self.checkout.nose(
            '--processes', '2', '-v', SAMPLE + ':SampleTest',
            TABLE_DEFINITION, '--log-debug=audit_alembic')
        self.assertEqual(result.returncode, 0, result.output)
        lines = [line for line in result.stderr.splitlines()
                 if ' ... ' in line]
        self.assertEqual(len(lines), 3, result.stderr)
        for line in lines:
            self.assertRegex(line, r'^test_\w+ \([\w.]+\) \.\.\. ok$')
        self.assertEqual(result.stderr.count('recorded up step'), 1,
                         result.stderr)

    def test_coverage_counts_import_time_lines(self):
        self.assertCoversImportTimeLines(
            self.checkout.nose('--with-coverage', 'test.audit.test_api'))


class SampleOnlyWhenNamedTest(CheckoutTestMixin, unittest.TestCase):
    """The runner's sample suite, whose tests pass unless asked not to,
    runs only where a test name points into it (as the runner's tests
    name it), under nose2 and pytest."""

    def setUp(self):
        super().setUp()
        # A suite of the sample and one module of two tests.
        for folder in ('audit', 'cli', 'browser'):
            shutil.rmtree(self.checkout.path('test', folder))
        for path in glob.glob(self.checkout.path('test', 'runner',
                                                 'test_*.py')):
            if os.path.basename(path) != 'test_logging.py':
                os.remove(path)

    def test_nose_discovery_passes_it_by(self):
        for args in ((), ('test.runner',), ('runner/',)):
            with self.subTest(args=args):
                result = self.checkout.nose('-v', *args)
                self.assertEqual(result.returncode, 0, result.output)
                self.assertEqual(ran(result), 2, result.output)
        result = self.checkout.nose('runner/sample/',
                                    'test.runner.test_logging')
        self.assertEqual(ran(result), 2 + SAMPLE_TESTS, result.output)

    def test_pytest_collection_passes_it_by(self):
        result = self.checkout.pytest('-q')
        self.assertEqual(result.returncode, 0, result.output)
        self.assertRegex(result.stdout, r'\b2 passed\b')
        result = self.checkout.pytest('-q', 'test/runner/sample')
        self.assertRegex(result.stdout, r'\b4 passed\b')


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
