"""Ctrl-C at any moment of ``audit-alembic``: one line, exit status 130."""
import importlib.util
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from audit_alembic.testing.fixtures import SilentServer
from test.cli.support import CLITestCase
from test.cli.support import child_environment
from test.cli.support import console_script
from test.cli.support import finish
from test.cli.support import start

#: Seconds between the moment ``main()`` has started (see
#: :func:`interrupt`) and Ctrl-C: while the command modules, SQLAlchemy
#: and the driver are imported, and while the database is awaited.
DELAYS = (0.0, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4)
#: For ``python -m audit_alembic``, whose way in differs only until
#: ``main()`` starts: during the imports, and while awaiting the server.
MODULE_DELAYS = (0.0, 0.01, 0.4)
#: What Python writes on stderr when a module has been imported, with
#: PYTHONPROFILEIMPORTTIME set; the last column is the module's name.
IMPORT_TIME = 'import time:'


def default_sigint():
    """Let the child take Ctrl-C as a terminal's process does, even where
    this process ignores SIGINT (as nose2's worker processes do); an
    ignored signal stays ignored across exec."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupt(command, delay, port):
    """Run ``command`` against a database that never answers; send
    SIGINT ``delay`` seconds after ``main()`` has started.

    ``main()`` has started when a module has been imported after
    ``audit_alembic.cli``: nothing is imported between that import and
    the call.  (Before it, Python starts, which no program can catch,
    then imports the package: a few milliseconds.)

    Returns (exit status, stderr without the import-time lines).
    """
    process = subprocess.Popen(
        command + ['history', '--url',
                   'mysql+pymysql://scott:sekrit@127.0.0.1:%d/test' % port],
        env=child_environment(PYTHONPROFILEIMPORTTIME='1'),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        preexec_fn=default_sigint)
    try:
        lines = []
        seen_cli = False
        deadline = time.monotonic() + 60
        while True:
            ready, _, _ = select.select([process.stderr], [], [],
                                        max(0, deadline - time.monotonic()))
            if not ready:
                raise AssertionError('main() never started: %r' % lines)
            line = process.stderr.readline().decode('utf-8', 'replace')
            if not line:
                raise AssertionError('ended early: %r' % lines)
            lines.append(line)
            if not line.startswith(IMPORT_TIME):
                continue
            if seen_cli:
                break
            seen_cli = line.split('|')[-1].strip() == 'audit_alembic.cli'
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    stderr = stderr.decode('utf-8', 'replace')
    # Python writes them unbuffered, so one may land inside our line.
    return process.returncode, re.sub(
        re.escape(IMPORT_TIME) + r'[^\n]*\n', '', stderr)


class InterruptTest(CLITestCase):
    def setUp(self):
        if importlib.util.find_spec('pymysql') is None:
            self.skipTest('needs PyMySQL')

    def check(self, command, delays=DELAYS):
        with SilentServer() as port:
            for delay in delays:
                with self.subTest(delay=delay):
                    code, stderr = interrupt(command, delay, port)
                    self.assertEqual((code, stderr),
                                     (130, 'audit-alembic: interrupted\n'))

    def test_console_script(self):
        self.check(console_script())

    def test_python_m_audit_alembic(self):
        self.check([sys.executable, '-m', 'audit_alembic'], MODULE_DELAYS)


#: Run as ``python -m``: an interrupt raised in code run by ``exec`` of a
#: string, as while SQLAlchemy is imported, then main()'s usual exit.
INTERRUPTED_IN_EXEC = """\
import sys

from audit_alembic.cli import main
from audit_alembic.cli import options


def interrupted(text):
    exec('raise KeyboardInterrupt')


options.timestamp = interrupted
sys.exit(main(['history', '--since', '2024-05-01']))
"""


class InterruptInExecTest(CLITestCase):
    def test_python_m_does_not_die_by_sigint(self):
        directory = tempfile.mkdtemp(prefix='audit_alembic_interrupt_')
        # Python may write a __pycache__ folder beside the module.
        self.addCleanup(shutil.rmtree, directory)
        path = os.path.join(directory, 'interrupted_in_exec.py')
        with open(path, 'w') as f:
            f.write(INTERRUPTED_IN_EXEC)
        result = finish(start(
            [sys.executable, '-m', 'interrupted_in_exec'], cwd=directory))
        self.assertEqual((result.returncode, result.stderr),
                         (130, 'audit-alembic: interrupted\n'))


class SwallowedInterruptTest(CLITestCase):
    """Ctrl-C that lands in a callback, where Python only reports it as
    "ignored" and the command goes on: still one line and 130."""

    def test_interrupt_in_a_callback(self):
        import weakref

        from audit_alembic.cli import options

        class Thing:
            pass

        def callback(ref):
            raise KeyboardInterrupt

        real_database_url = options.database_url

        def database_url(args):
            thing = Thing()
            ref = weakref.ref(thing, callback)
            del thing  # the callback runs now; its exception is swallowed
            self.assertIsNone(ref())
            return real_database_url(args)
        options.database_url = database_url
        try:
            result = self.main('history', '-c', 'no-such.ini')
        finally:
            options.database_url = real_database_url
        self.assertEqual((result.returncode, result.stderr),
                         (130, 'audit-alembic: interrupted\n'))
