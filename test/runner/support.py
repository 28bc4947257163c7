"""Run the real runner on a copy of this checkout."""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest

from audit_alembic.paths import PACKAGE_ROOT as ROOT

COPIED = ['sqla_nose.py', 'setup.py', 'setup.cfg', 'audit_alembic', 'test']
PASSWORD = 'sekrit'


#: Coverage settings for runs in a copy (see Checkout.measure_coverage);
#: setup.cfg's [coverage:paths] maps the copy's files onto ours.
COVERAGE_CONFIG = """\
[run]
source = {source}
omit = */audit_alembic/testing/plugin/*
data_file = {data_file}
parallel = true
patch = subprocess
concurrency = thread,multiprocessing
"""


class Checkout:
    """A copy of the checkout in a temporary folder, for runs that write
    test.cfg or database files without touching the real one."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix='audit_alembic_checkout_')
        ignore = shutil.ignore_patterns('__pycache__', '*.db', 'test.cfg')
        for name in COPIED:
            source = os.path.join(ROOT, name)
            target = os.path.join(self.root, name)
            if os.path.isdir(source):
                shutil.copytree(source, target, ignore=ignore)
            else:
                shutil.copy2(source, target)

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def write_test_cfg(self, text):
        with open(self.path('test.cfg'), 'w') as f:
            f.write(text)

    def environment(self, args, env=None):
        """os.environ for running ``args`` in the checkout, with ``env``."""
        environ = dict(os.environ)
        environ.pop('AUDIT_ALEMBIC_SAMPLE_FAIL', None)
        environ.pop('AUDIT_ALEMBIC_SAMPLE_CRASH', None)
        # The runs decide for themselves whether servers are required.
        environ.pop('AUDIT_ALEMBIC_REQUIRE_SERVERS', None)
        environ.pop('AUDIT_ALEMBIC_SHARED_DATABASES', None)
        environ.update(env or {})
        self.measure_coverage(environ, args)
        return environ

    def run(self, *args, cwd=None, env=None, timeout=120):
        """Run a command in the checkout; returns the CompletedProcess
        with ``.output`` holding stdout and stderr together."""
        result = subprocess.run(
            list(args), cwd=cwd or self.root, timeout=timeout,
            env=self.environment(args, env), stdin=subprocess.DEVNULL,
            capture_output=True, text=True)
        result.output = result.stdout + result.stderr
        return result

    def start(self, *args, env=None):
        """Start a command in the checkout, its output discarded; the
        Popen."""
        return subprocess.Popen(
            list(args), cwd=self.root, env=self.environment(args, env),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)

    def measure_coverage(self, environ, args):
        """Where this process is measured, have coverage measure the run
        of ``args`` in this copy too, and write its data beside this
        process's, for the combine step to find (coverage's own settings
        for child processes name this checkout's package, not the
        copy's).  A run that measures coverage itself is left to it: its
        own data file is the copy's, and its erase step must not reach
        ours."""
        # The measuring process's settings; coverage sets COVERAGE_RCFILE
        # in a process it measures with concurrency = multiprocessing.
        for name in ('COVERAGE_PROCESS_CONFIG', 'COVERAGE_PROCESS_START',
                     'COVERAGE_RCFILE', 'COVERAGE_FILE'):
            environ.pop(name, None)
        if any(arg.startswith('--cov') or arg in ('--with-coverage', '-C')
               for arg in args):
            return
        try:
            import coverage
        except ImportError:  # pragma: no cover
            return
        current = coverage.Coverage.current()
        if current is None:
            return
        config = self.path('.coveragerc-runs')
        if not os.path.exists(config):
            with open(config, 'w') as f:
                f.write(COVERAGE_CONFIG.format(
                    source=self.path('audit_alembic'),
                    data_file=os.path.abspath(
                        current.get_option('run:data_file'))))
        environ['COVERAGE_PROCESS_START'] = config

    def nose(self, *args, **kw):
        """Run ./sqla_nose.py with ``args``, in one process unless they
        name a number of processes (tests of the default use
        :meth:`run`), so that the output comes in the tests' order."""
        if not any(arg.startswith(('--processes', '-N')) for arg in args):
            args = ('--processes', '1') + args
        return self.run(sys.executable, self.path('sqla_nose.py'), *args, **kw)

    def pytest(self, *args, **kw):
        """Run pytest with ``args``."""
        return self.run(sys.executable, '-m', 'pytest', '-p',
                        'no:cacheprovider', *args, **kw)

    def remove(self):
        shutil.rmtree(self.root, ignore_errors=True)


class CheckoutTestMixin:
    """Gives each test ``self.checkout``, a :class:`Checkout` of its own
    (a copy takes milliseconds; no class fixture keeps the tests of a
    class on one worker of a parallel run), and assertions on runner
    output."""

    def setUp(self):
        super().setUp()
        self.checkout = Checkout()
        self.addCleanup(self.checkout.remove)

    def assertOneLineError(self, result, *fragments, code=2):
        """Exit code, a single line on stderr, no traceback, no password."""
        self.assertEqual(result.returncode, code, result.output)
        self.assertNotIn('Traceback', result.output)
        self.assertNotIn(PASSWORD, result.output)
        lines = result.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        for fragment in fragments:
            self.assertIn(fragment, lines[0])

    def assertCoversImportTimeLines(self, result):
        """The coverage report counts every line of modules imported early."""
        self.assertEqual(result.returncode, 0, result.output)
        for module in ('__init__.py', 'exc.py'):
            self.assertRegex(
                result.output,
                r'audit_alembic/%s\s+\d+\s+0\s+100%%' % re.escape(module))


def server_answers(port):
    """Whether something listens on ``port`` of 127.0.0.1."""
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex(('127.0.0.1', port)) == 0


def skip_without(*modules):
    """Skip the test unless every driver module is importable."""
    for module in modules:
        try:
            __import__(module)
        except ImportError:
            raise unittest.SkipTest('driver %s is not installed' % module)


def closed_port():
    """A port of 127.0.0.1 nothing listens on."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]  # nothing listens once it is closed


class CheckoutTestCase(CheckoutTestMixin, unittest.TestCase):
    def assertErrorLine(self, message, *fragments):
        """A runner_error() message: one line, no password, naming
        ``fragments``."""
        self.assertIsNotNone(message)
        self.assertEqual(len(message.splitlines()), 1, message)
        self.assertNotIn(PASSWORD, message)
        for fragment in fragments:
            self.assertIn(fragment, message)


def runner_error(*args, root=ROOT):
    """The one-line error the runner stops with for these options, or
    None, found in this process: the options parsed, the aliases read
    from ``root``'s config files, the targets resolved and connected to
    (as ``pre_begin`` and ``post_begin`` do, leaving the targets of the
    running suite alone).  The runners print it after ``PROG: error: ``
    (nose2, exit status 2) or ``ERROR: `` (pytest, 4); tests that run them
    check that part once."""
    import argparse

    from audit_alembic.testing import provision
    from audit_alembic.testing.plugin import plugin_base
    from audit_alembic.testing.plugin import targets
    parser = argparse.ArgumentParser()
    plugin_base.setup_options(parser.add_argument)
    options = parser.parse_args(list(args))
    connected = []
    try:
        aliases = targets.read_aliases(root)
        connected = [provision.Target(label, url) for label, url in
                     targets.resolve_targets(options.targets, aliases)]
        provision.connect_all(connected)
    except (targets.UsageError, provision.TargetError) as err:
        return str(err)
    finally:
        for target in connected:
            if target.engine is not None:
                target.engine.dispose()
    return None


def dbs_listing(root=ROOT):
    """What ``--dbs`` prints for the config files of ``root``, found in
    this process."""
    from audit_alembic.testing.plugin import targets
    aliases = targets.read_aliases(root)
    return targets.format_aliases(aliases) + targets.list_leftovers(aliases)
