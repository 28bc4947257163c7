"""The same options under pytest, and ``python setup.py test``."""
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

from test.runner.support import CheckoutTestMixin

SAMPLE_DIR = 'test/runner/sample'
#: A per-run database file a killed run left (no process has this id).
LEFTOVER = 'test_aa_%d_0123abcd.db' % (2 ** 22 + 1)


class PytestRunnerTest(CheckoutTestMixin, unittest.TestCase):
    dropfirst_runs = None

    def run_with_dropfirst(self):
        """Two runs with --dropfirst, made once, beside a file a killed
        run left: (whether the file survived the first, whose test path
        does not exist; the second, a failing run of the sample on two
        targets)."""
        cls = type(self)
        if cls.dropfirst_runs is None:
            leftover = self.checkout.path(LEFTOVER)
            sqlite3.connect(leftover).close()
            args = ['--db', 'default', '--db', 'sqlite_file', '--dropfirst']
            bad_path = self.checkout.pytest(*args, 'test/runner/nowhere')
            self.assertEqual(bad_path.returncode, 4, bad_path.output)
            kept = os.path.exists(leftover)
            cls.dropfirst_runs = kept, self.checkout.pytest(
                '-v', *args, SAMPLE_DIR,
                env={'AUDIT_ALEMBIC_SAMPLE_FAIL': '1'})
        return cls.dropfirst_runs

    def test_backend_classes_run_once_per_target(self):
        # A failing run: its exit status is 1.  (ConfigTest shows that
        # no --db means the default alias.)
        result = self.run_with_dropfirst()[1]
        self.assertEqual(result.returncode, 1, result.output)
        passed = re.findall(r'::(\w+::\w+) PASSED', result.stdout)
        self.assertEqual(sorted(passed), [
            'SampleBackendTest_default::test_target_answers',
            'SampleBackendTest_sqlite_file::test_target_answers',
            'SampleCrashTest::test_crashes_on_request',
            'SampleTest::test_checkout_package_comes_first',
        ])
        self.assertIn('SampleTest::test_fails_on_request FAILED',
                      result.stdout)
        self.assertIn('Database targets: default (sqlite://), sqlite_file '
                      '(sqlite:///audit_alembic_test.db)', result.stdout)

    def test_dropfirst_waits_for_good_test_paths(self):
        kept, result = self.run_with_dropfirst()
        self.assertTrue(kept, 'dropped before the test paths were checked')
        self.assertIn('--dropfirst: dropped 1 leftover database of killed '
                      'runs from sqlite:///audit_alembic_test.db: %s'
                      % LEFTOVER[:-len('.db')], result.stderr)
        self.assertFalse(os.path.exists(self.checkout.path(LEFTOVER)))

    def test_options_in_help(self):
        result = self.checkout.pytest('--help')
        section = result.stdout.split(
            '\nDatabase targets and logging for the Audit-Alembic suite:\n',
            1)[1]
        for option in ('--db=NAME', '--dburi=URL', '--dbs', '--dropfirst',
                       '--log-info=LOGGER', '--log-debug=LOGGER'):
            self.assertIn(option, section)

    def test_dbs(self):
        result = self.checkout.pytest('--dbs')
        self.assertEqual(result.returncode, 0, result.output)
        self.assertIn('postgresql+psycopg://scott:***@127.0.0.1:5432/test',
                      result.stdout)
        self.assertNotIn('tiger', result.output)

    def test_bad_alias_is_a_usage_error(self):
        result = self.checkout.pytest(SAMPLE_DIR, '--db', 'nope')
        self.assertEqual(result.returncode, 4, result.output)
        self.assertIn("ERROR: unknown --db alias 'nope'", result.stderr)
        self.assertNotIn('Traceback', result.output)

    def test_n_without_xdist_is_one_line(self):
        self.assertOneLineError(
            self.checkout.pytest('-p', 'no:xdist', '-n', '2', SAMPLE_DIR),
            'ERROR: -n needs pytest-xdist, which is not installed', code=4)

    def test_every_spelling_of_n_is_seen(self):
        # In this process; the run above shows what follows.
        from types import SimpleNamespace

        from audit_alembic.testing.plugin.pytestplugin import \
            _asks_for_workers
        for args, asks in [(['-n', '2'], True), (['-n2'], True),
                           (['--numprocesses=2'], True),
                           (['--numprocesses', '2'], True),
                           (['-v', SAMPLE_DIR], False),
                           (['--', '-n', '2'], False)]:
            with self.subTest(args=args):
                config = SimpleNamespace(
                    invocation_params=SimpleNamespace(args=args))
                self.assertIs(_asks_for_workers(config), asks)

    def test_crashed_worker_fails_the_run_and_leaves_nothing(self):
        # Two targets: the workers collect the same per-target classes
        # and each has files of its own, which the run drops, the
        # crashed worker's too.  (The other worker, like those of a run
        # that passes, ends normally.)
        try:
            import xdist  # noqa: F401
        except ImportError:
            self.skipTest('pytest-xdist is not installed')
        output = self.checkout.path('crash.out')
        with open(output, 'w') as f:
            process = subprocess.Popen(
                [sys.executable, '-m', 'pytest', '-p', 'no:cacheprovider',
                 '-n', '2', '--db', 'sqlite_file', '--db', 'sqlite',
                 SAMPLE_DIR],
                cwd=self.checkout.root, stdout=f, stderr=subprocess.STDOUT,
                env=self.checkout.environment(
                    ['pytest'], {'AUDIT_ALEMBIC_SAMPLE_CRASH': '1'}))
            code = process.wait(timeout=120)
        with open(output) as f:
            text = f.read()
        self.assertEqual(code, 1, text)
        self.assertIn('crashed', text)
        self.assertRegex(text, r'\b1 failed, 4 passed\b')
        self.assertEqual(self.databases(), [])
        # The crashed worker could not remove its process id.
        self.assertFalse(os.path.exists(os.path.join(
            tempfile.gettempdir(), 'audit_alembic_workers_%d' % process.pid)))

    def test_sigterm_stops_workers_and_drops_their_databases(self):
        try:
            import xdist  # noqa: F401
        except ImportError:
            self.skipTest('pytest-xdist is not installed')
        hanging = self.checkout.path('hanging')
        process = self.checkout.start(
            sys.executable, '-m', 'pytest', '-p', 'no:cacheprovider', '-n',
            '2', '--db', 'sqlite_file', SAMPLE_DIR,
            env={'AUDIT_ALEMBIC_SAMPLE_CRASH': 'hang',
                 'AUDIT_ALEMBIC_SAMPLE_HANGING': hanging})
        self.addCleanup(process.kill)
        deadline = time.monotonic() + 60
        while not os.path.exists(hanging) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertTrue(self.databases(), 'the run made no database')
        stopped = time.monotonic()
        process.terminate()
        self.assertNotEqual(process.wait(timeout=60), 0)
        # pytest-xdist alone waits up to 10 seconds for the busy worker.
        self.assertLess(time.monotonic() - stopped, 4)
        self.assertEqual(self.databases(), [])
        self.assertFalse(os.path.exists(os.path.join(
            tempfile.gettempdir(), 'audit_alembic_workers_%d' % process.pid)))

    def databases(self):
        return [name for name in os.listdir(self.checkout.root)
                if name.endswith('.db')]

    def test_coverage_counts_import_time_lines(self):
        self.assertCoversImportTimeLines(self.checkout.pytest(
            '--cov=audit_alembic', 'test/audit/test_api.py'))


class SetupPyTestCommandTest(CheckoutTestMixin, unittest.TestCase):
    def setup_py_test(self, args, **kw):
        return self.checkout.run(sys.executable, 'setup.py', '-q', 'test',
                                 '--test-args', args, **kw)

    def test_runs_the_suite_with_arguments(self):
        # A failing run: its exit status is the runner's.
        result = self.setup_py_test(
            '-v test.runner.sample', env={'AUDIT_ALEMBIC_SAMPLE_FAIL': '1'})
        self.assertEqual(result.returncode, 1, result.output)
        self.assertIn('Database target: default (sqlite://)', result.output)
        self.assertRegex(result.output, r'Ran 4 tests')
        self.assertIn('FAILED (failures=1)', result.output)

    def test_success_exits_zero(self):
        # --help: a run that succeeds without loading the suite.
        result = self.setup_py_test('--help')
        self.assertEqual(result.returncode, 0, result.output)
        self.assertIn('usage: sqla_nose.py ', result.output)
