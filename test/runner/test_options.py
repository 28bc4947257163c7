"""The runner core's option and config checks, called in-process."""
import argparse
import contextlib
import io
import os
import shutil
import sys
import tempfile
import unittest
from unittest import mock

import sqla_nose
from audit_alembic.testing.plugin import plugin_base
from audit_alembic.testing.plugin import targets
from test.runner.support import PASSWORD
from test.runner.support import CheckoutTestMixin


def parse(*argv):
    """``argv`` parsed with the runner's options; (namespace, stderr)."""
    parser = argparse.ArgumentParser(prog='sqla_nose.py')
    plugin_base.setup_options(parser.add_argument)
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        try:
            return parser.parse_args(list(argv)), stderr.getvalue()
        except SystemExit as exit:
            return exit.code, stderr.getvalue()


class LoggerOptionTest(unittest.TestCase):
    def test_empty_logger_name_is_refused(self):
        for flag in ('--log-debug=', '--log-info= '):
            with self.subTest(flag=flag):
                code, stderr = parse(flag)
                self.assertEqual(code, 2)
                self.assertIn("invalid logger name value", stderr)

    def test_logger_names_are_kept(self):
        options, _ = parse('--log-debug=audit_alembic', '--log-info', 'x.y')
        self.assertEqual((options.log_debug, options.log_info),
                         (['audit_alembic'], ['x.y']))


class ConfigTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix='audit_alembic_cfg_')
        self.addCleanup(shutil.rmtree, self.root)

    def test_test_cfg_that_is_not_utf8(self):
        with open(os.path.join(self.root, 'test.cfg'), 'wb') as f:
            f.write(b'[db]\nmine = sqlite:///caf\xe9.db\n')
        with self.assertRaises(targets.UsageError) as caught:
            targets.read_aliases(self.root)
        self.assertEqual(str(caught.exception),
                         'cannot read test.cfg: not UTF-8 text (byte 25)')

    def test_no_target_means_the_default_alias(self):
        aliases = {'default': 'sqlite://', 'other': 'sqlite:///x.db'}
        self.assertEqual(
            [(label, str(url)) for label, url in
             targets.resolve_targets(parse()[0].targets, aliases)],
            [('default', 'sqlite://')])

    def test_dburi_with_a_port_that_is_not_a_number(self):
        with self.assertRaises(targets.UsageError) as caught:
            targets.resolve_targets([(
                'dburi', 'postgresql://scott:%s@host:54x2/test' % PASSWORD)],
                {})
        message = str(caught.exception)
        self.assertTrue(message.startswith(
            "malformed --dburi: 'postgresql://***@host:54x2/test' is not a "
            "SQLAlchemy URL"), message)
        self.assertNotIn(PASSWORD, message)


class WorkerCountTest(unittest.TestCase):
    """What ./sqla_nose.py asks nose2's mp plugin for."""

    def test_a_worker_per_cpu_by_default(self):
        with mock.patch.object(sqla_nose, 'usable_cpus', return_value=3):
            self.assertEqual(sqla_nose.with_workers(['-v', 'test.audit']),
                             ['--processes', '3', '-v', 'test.audit'])
        with mock.patch.object(sqla_nose, 'usable_cpus', return_value=1):
            self.assertEqual(sqla_nose.with_workers(['test.audit']),
                             ['test.audit'])

    def test_a_number_given(self):
        for args in (['--processes', '4'], ['--processes=4'], ['-N', '4'],
                     ['-N4'], ['-N=4']):
            with self.subTest(args=args):
                self.assertEqual(sqla_nose.with_workers(args + ['-v']),
                                 ['--processes', '4', '-v'])

    def test_one_process_is_this_one(self):
        for args in (['--processes', '1'], ['-N1']):
            with self.subTest(args=args):
                self.assertEqual(sqla_nose.with_workers(['-v'] + args),
                                 ['-v'])


class ProcessesOptionTest(CheckoutTestMixin, unittest.TestCase):
    def test_bad_process_counts(self):
        for args in (['--processes', '0'], ['--processes=-1'], ['-N', 'x'],
                     ['--processes']):
            with self.subTest(args=args):
                self.assertOneLineError(
                    self.checkout.nose(*args), 'takes a number of processes '
                    'of 1 or more')

    def test_default_run_has_a_worker_per_cpu_with_databases_of_its_own(self):
        # (NoseRunnerTest.test_verbose_failing_run: --processes 1.)
        noted = self.checkout.path('parents')
        result = self.checkout.run(
            sys.executable, self.checkout.path('sqla_nose.py'),
            '--db', 'sqlite_file', 'test.audit.test_api',
            'test.runner.sample.test_sample:SampleTest',
            env={'AUDIT_ALEMBIC_SAMPLE_PARENT': noted})
        self.assertEqual(result.returncode, 0, result.output)
        self.assertRegex(result.output, r'Ran \d+ tests')
        self.assertEqual([name for name in os.listdir(self.checkout.root)
                          if name.endswith('.db')], [])
        with open(noted) as f:
            parent = int(f.read())
        # A worker's parent is the runner; the runner's is this process.
        self.assertEqual(parent == os.getpid(), sqla_nose.usable_cpus() == 1)

    def test_crashed_worker_ends_the_run_and_leaves_nothing(self):
        result = self.checkout.nose(
            '--processes', '2', '--db', 'sqlite_file', 'test.runner.sample',
            env={'AUDIT_ALEMBIC_SAMPLE_CRASH': '1'}, timeout=60)
        self.assertEqual(result.returncode, 1, result.output)
        self.assertEqual(result.stderr.strip().splitlines()[-1],
                         'sqla_nose.py: error: a test worker process died '
                         'mid-run; the tests it was running did not finish '
                         'and the run failed')
        self.assertRegex(result.stderr, r'Ran 3 tests')
        self.assertNotIn('Traceback', result.output)
        self.assertNotIn('connection closed unexpectedly', result.output)
        self.assertEqual([name for name in os.listdir(self.checkout.root)
                          if name.endswith('.db')], [])
