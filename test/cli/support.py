"""Running the real ``audit-alembic`` and giving it something to read."""
import contextlib
import csv
import importlib.util
import io
import os
import shutil
import subprocess
import sys
import tempfile

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from audit_alembic import paths
from audit_alembic.testing.fixtures import ScratchEnvironment
from audit_alembic.testing.fixtures import TestBase
from audit_alembic.testing.fixtures import reachable_url

ERROR_PREFIX = 'audit-alembic: error: '
HISTORY_TABLE = 'alembic_version_history'


def console_script():
    """The installed ``audit-alembic`` beside this Python, else ``-m``."""
    script = os.path.join(os.path.dirname(sys.executable), 'audit-alembic')
    if os.path.exists(script):
        return [script]
    return [sys.executable, '-m', 'audit_alembic']


def child_environment(**extra):
    """os.environ for a child that imports this checkout, writing UTF-8."""
    return paths.child_environment(PYTHONIOENCODING='utf-8', **extra)


def start(command, cwd=None, env=None):
    return subprocess.Popen(
        command, cwd=cwd, env=env or child_environment(), text=True,
        encoding='utf-8', stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(process, timeout=120):
    stdout, stderr = process.communicate(timeout=timeout)
    return subprocess.CompletedProcess(process.args, process.returncode,
                                       stdout, stderr)


def unreachable_url():
    """A URL of a server that refuses connections (port 1), password
    ``sekrit``, for a network driver that is installed; None if there is
    none."""
    for driver, url in (
            ('psycopg', 'postgresql+psycopg://scott:sekrit@127.0.0.1:1/test'),
            ('pymysql', 'mysql+pymysql://scott:sekrit@127.0.0.1:1/test')):
        if importlib.util.find_spec(driver) is not None:
            return url
    return None


def url_text(url):
    """The URL as a command-line argument, password included."""
    return url.render_as_string(hide_password=False)


class AuditedDatabase:
    """A history table written by real Alembic runs, on a database that
    an ``audit-alembic`` subprocess can reach.

    :param target: the test target whose database to use; None for a
        new SQLite file, ``test.db`` in :attr:`directory`.
    """

    def __init__(self, target, revisions, **scratch_options):
        #: A temporary directory, removed by :meth:`close`.
        self.directory = tempfile.mkdtemp(prefix='audit_alembic_cli_')
        if target is None:
            self.url = make_url('sqlite:///' + os.path.join(
                self.directory, 'test.db'))
        else:
            self.url = reachable_url(target.url, self.directory)
        self.own_engine = target is None or self.url != target.url
        self.closed = False
        self.engine = create_engine(self.url) if self.own_engine \
            else target.engine
        try:
            self.env = ScratchEnvironment(
                self.engine, revisions, url=self.url, **scratch_options)
        except Exception:
            self._release()
            raise

    @property
    def url_text(self):
        return url_text(self.url)

    def run(self, *args, **kw):
        """Run an Alembic command (e.g. ``'upgrade', 'head'``)."""
        self.env.run(*args, **kw)

    def contents(self):
        """Every row of every table of the database, by table name: to
        prove that a command changed nothing."""
        from sqlalchemy import MetaData
        from sqlalchemy import select
        metadata = MetaData()
        metadata.reflect(self.engine)
        with self.engine.connect() as connection:
            return {name: connection.execute(select(table)).all()
                    for name, table in metadata.tables.items()}

    def rows(self, table=HISTORY_TABLE):
        """The history rows, oldest first, as dicts."""
        return self.env.history(table)

    def close(self):
        """Remove the tables and the folder; only the first call does
        anything (see :meth:`ScratchEnvironment.close`)."""
        if self.closed:
            return
        self.closed = True
        try:
            self.env.close()
        finally:
            self._release()

    def _release(self):
        if self.own_engine:
            self.engine.dispose()
        shutil.rmtree(self.directory, ignore_errors=True)


class Utf8Stream(io.TextIOWrapper):
    """An in-memory text stream that says it writes UTF-8, as a child
    process with ``PYTHONIOENCODING=utf-8`` does."""

    def __init__(self):
        super().__init__(io.BytesIO(), encoding='utf-8', newline='\n')

    def getvalue(self):
        self.flush()
        return self.buffer.getvalue().decode('utf-8')


class CLITestCase(TestBase):
    """Runs ``audit-alembic`` and checks what it says."""

    def cli(self, *args, cwd=None, env=None):
        """Run ``audit-alembic ARGS``; the CompletedProcess, text captured."""
        return finish(start(console_script() + list(args), cwd, env))

    def main(self, *args, cwd=None):
        """Run ``audit_alembic.cli.main(ARGS)`` in this process, in
        directory ``cwd`` if given; a CompletedProcess whose stdout and
        stderr hold what it wrote (``args`` are ``audit-alembic ARGS``)."""
        from audit_alembic.cli import main
        stdout, stderr = Utf8Stream(), Utf8Stream()
        previous = os.getcwd()
        try:
            if cwd is not None:
                os.chdir(cwd)
            with contextlib.redirect_stdout(stdout), \
                    contextlib.redirect_stderr(stderr):
                try:
                    code = main(list(args))
                except SystemExit as exit:
                    code = exit.code
        finally:
            os.chdir(previous)
        return subprocess.CompletedProcess(
            ['audit-alembic'] + list(args), code, stdout.getvalue(),
            stderr.getvalue())

    def cli_many(self, *arg_lists, cwd=None):
        """Run several ``audit-alembic`` commands side by side, each in a
        process of its own."""
        processes = [start(console_script() + list(args), cwd)
                     for args in arg_lists]
        return [finish(process) for process in processes]

    def main_many(self, *arg_lists, cwd=None):
        """:meth:`main` for each list of arguments, in turn."""
        return [self.main(*args, cwd=cwd) for args in arg_lists]

    def audited_database(self, revisions, sqlite_file=False, **kw):
        """An :class:`AuditedDatabase` on this test's target (or on a new
        SQLite file), removed after the test."""
        database = AuditedDatabase(None if sqlite_file else self.target,
                                   revisions, **kw)
        self.addCleanup(database.close)
        return database

    def assertSucceeds(self, result):
        """Exit status 0, nothing on stderr; returns stdout."""
        self.assertEqual(
            (result.returncode, result.stderr), (0, ''),
            'audit-alembic %s\n%s' % (' '.join(result.args[1:]),
                                      result.stdout))
        return result.stdout

    def assertUsageError(self, result, *fragments):
        """Exit status 2 with argparse's usage message."""
        self.assertEqual(result.returncode, 2, result)
        self.assertIn('usage: audit-alembic', result.stderr)
        self.assertNotIn('Traceback', result.stderr)
        for fragment in fragments:
            self.assertIn(fragment, result.stderr)

    def assertFails(self, result, *fragments, hidden=(), status=2):
        """Exit status 2 (it could not check), one error line naming
        ``fragments`` and none of ``hidden``, no traceback; returns the
        message."""
        self.assertEqual(result.returncode, status, result)
        lines = result.stderr.splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertTrue(lines[0].startswith(ERROR_PREFIX), lines[0])
        self.assertNotIn('Traceback', result.stdout + result.stderr)
        for fragment in fragments:
            self.assertIn(fragment, lines[0])
        for secret in hidden:
            self.assertNotIn(secret, result.stdout + result.stderr)
        return lines[0][len(ERROR_PREFIX):]

    def assertFindings(self, result, *fragments):
        """Exit status 1 (the check found something), with one error line
        naming ``fragments`` as :meth:`assertFails` has it; returns the
        message."""
        return self.assertFails(result, *fragments, status=1)


def parse_table(text):
    """The header and rows of a table printed by ``history``, cut at the
    header's column positions (so misaligned columns show up)."""
    lines = text.splitlines()
    header, rule, rows = lines[0], lines[1], lines[2:]
    starts = [0]
    for i in range(1, len(rule)):
        if rule[i] == '-' and rule[i - 1] == ' ':
            starts.append(i)
    bounds = list(zip(starts, starts[1:] + [None]))

    def cut(line):
        return [line[a:b].strip() for a, b in bounds]
    return cut(header), [cut(row) for row in rows]


def parse_csv(text):
    """The rows of CSV text, header first."""
    return list(csv.reader(io.StringIO(text)))
