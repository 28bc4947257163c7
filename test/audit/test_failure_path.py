"""The failure path when the server ends the session or Ctrl-C comes
(issue 19): the user's own error propagates alone and unchanged, and
recording it never keeps a deploy waiting longer than
:data:`.failure.RECORD_TIMEOUT`.

Most tests run the real ``alembic`` command line and act on it from
outside, once they see it running or waiting: they end its server
session, or send it SIGINT as a terminal's Ctrl-C does.
"""
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import traceback
import logging
import uuid

from sqlalchemy import event
from sqlalchemy import inspect
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from audit_alembic import Auditor
from audit_alembic import failure
from audit_alembic import paths
from audit_alembic.testing.fixtures import Rev
from audit_alembic.testing.fixtures import TestBase

#: What the tests do to a server, per dialect: a statement that runs a
#: while (``%s``: a tag naming it), the session running a statement, how
#: to end a session from another one, how to lock a table and which
#: sessions wait for the version or history table.
POSTGRESQL = {
    'sleep': 'SELECT pg_sleep(30) AS %s',
    'running': 'SELECT pid FROM pg_stat_activity '
               'WHERE query = :query AND pid <> pg_backend_pid()',
    'end_session': 'SELECT pg_terminate_backend(%d)',
    'lock': 'LOCK TABLE %s IN ACCESS EXCLUSIVE MODE',
    'unlock': None,  # the transaction's end
    'waiting': "SELECT pid FROM pg_stat_activity "
               "WHERE datname = current_database() "
               "AND wait_event_type = 'Lock' "
               "AND query LIKE '%alembic_version%'",
}
MYSQL = {
    'sleep': 'SELECT SLEEP(30) AS %s',
    'running': 'SELECT id FROM information_schema.processlist '
               'WHERE info = :query',
    'end_session': 'KILL %d',
    'lock': 'LOCK TABLES %s WRITE',
    'unlock': 'UNLOCK TABLES',
    'waiting': "SELECT id FROM information_schema.processlist "
               "WHERE db = DATABASE() "
               "AND state = 'Waiting for table metadata lock' "
               "AND info LIKE '%alembic_version%'",
}
SERVERS = {'postgresql': POSTGRESQL, 'mysql': MYSQL, 'mariadb': MYSQL}

#: Alembic's own command line as ``python -m alembic`` runs it, with
#: :data:`.failure.RECORD_TIMEOUT` set to the first argument.
ALEMBIC = '''\
import runpy
import sys

from audit_alembic import failure

failure.RECORD_TIMEOUT = float(sys.argv.pop(1))
runpy.run_module('alembic', run_name='__main__', alter_sys=True)
'''

#: Seconds a process may take beyond what it should to end (Python's
#: shutdown, a loaded machine).
SLACK = 2.0
#: What bare Alembic's process shows, killed by SIGINT (Python ends an
#: uncaught KeyboardInterrupt so): status 130 in a shell.
INTERRUPTED = 128 + signal.SIGINT

#: (exception, its traceback) as :func:`execute_and_keep` saw them.
SEEN = []


def execute_and_keep(op, statement):
    """Run ``statement`` in a revision script, keeping what it raises."""
    try:
        op.execute(statement)
    except BaseException as error:
        SEEN.append((error, error.__traceback__))
        raise


def details_auditor():
    return Auditor.create('1.0', details=True)


def steps(rows):
    return [(r['prev_alembic_version'], r['alembic_version'], r['status'])
            for r in rows]


def default_sigint():
    """Take SIGINT as a terminal's process does, even where the test
    runner ignores it (nose2's workers)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_alembic(env, *args, record_timeout=failure.RECORD_TIMEOUT):
    """The real ``alembic -c ... ARGS`` on ``env``, stderr captured."""
    return subprocess.Popen(
        [sys.executable, '-c', ALEMBIC, str(record_timeout),
         '-c', env.ini_path] + list(args),
        cwd=env.directory, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True, env=paths.child_environment(),
        preexec_fn=default_sigint)


def shell_status(returncode):
    """``returncode`` as a shell shows it (128 + signal if killed)."""
    return 128 - returncode if returncode < 0 else returncode


def last_exception(stderr):
    """The exception line of the last traceback on ``stderr``."""
    block = stderr.rpartition('Traceback (most recent call last):\n')[2]
    return [line for line in block.splitlines()
            if line and not line.startswith(' ')][0]


class FailurePathTestBase(TestBase):
    __backend__ = True

    def server(self):
        server = SERVERS.get(self.dialect_name)
        if server is None:
            self.skipTest('needs PostgreSQL, MySQL or MariaDB')
        return server

    def poll(self, connection, query, params=None, exclude=(),
             process=None, timeout=30):
        """The first id ``query`` finds that is not in ``exclude``,
        polled for until ``process`` ends or ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            found = [row[0] for row in connection.execute(
                text(query), params or {}) if row[0] not in exclude]
            connection.rollback()
            if found:
                return found[0]
            if process is not None and process.poll() is not None:
                self.fail('alembic ended early: %s' % (
                    process.communicate()[1],))
            self.assertLess(time.monotonic(), deadline, 'never seen')
            time.sleep(0.02)

    def stop_later(self, process):
        def stop():
            if process.poll() is None:
                process.kill()
            process.communicate()
        self.addCleanup(stop)

    def end(self, process, within):
        """The stderr of ``process``, which must end within ``within``
        seconds."""
        try:
            return process.communicate(timeout=within)[1]
        except subprocess.TimeoutExpired:
            self.fail('alembic still runs %.1f s later' % within)


class ServerEndsSessionTest(FailurePathTestBase):
    """The server ends the step's session mid-statement."""

    def sleeping_env(self, script, process=False):
        self.tag = 'aa_%s' % uuid.uuid4().hex[:12]
        self.statement = self.server()['sleep'] % self.tag
        revisions = [Rev('A'), Rev('B', 'A', upgrade=script % (
            self.statement,), downgrade='pass'), Rev('C', 'B')]
        if process:
            return self.process_scratch_env(revisions,
                                            auditor=details_auditor())
        return self.scratch_env(revisions, auditor=details_auditor())

    def end_session(self, process=None, before=None):
        """End, from another session, the one running the statement
        (calling ``before`` just before, if given)."""
        server = self.server()
        with self.engine.connect() as connection:
            session = self.poll(connection, server['running'],
                                {'query': self.statement}, process=process)
            if before is not None:
                before()
            connection.execute(text(server['end_session'] % session))
            connection.commit()

    def end_session_in_a_thread(self, before=None):
        """:meth:`end_session` in a thread: the thread, and the errors it
        met."""
        errors = []

        def run():
            try:
                self.end_session(before=before)
            except BaseException as error:
                errors.append(error)
        thread = threading.Thread(target=run)
        thread.start()
        self.addCleanup(thread.join)
        return thread, errors

    def check_failed_row(self, env, error_text):
        rows = env.history()
        if self.dialect_name == 'postgresql':  # one transaction, undone
            self.assertEqual(steps(rows), [('', 'B', 'failed')])
        else:
            self.assertEqual(steps(rows), [('', 'A', 'ok'),
                                           ('A', 'B', 'failed')])
        self.assertEqual(rows[-1]['error'].split('\n', 1)[0], error_text)

    def test_alembic_shows_the_drivers_error_alone(self):
        env = self.sleeping_env('op.execute(%r)', process=True)
        process = start_alembic(env, 'upgrade', 'head')
        self.stop_later(process)
        self.end_session(process)
        stderr = self.end(process, 60)
        self.assertEqual(process.returncode, 1, stderr)
        self.assertNotIn('PendingRollbackError', stderr)
        self.assertNotIn('During handling of the above exception', stderr)
        self.assertNotIn('WARNING', stderr)
        error = last_exception(stderr)
        self.assertTrue(error.startswith('sqlalchemy.exc.OperationalError: ('),
                        stderr)
        self.assertTrue(stderr.rstrip().endswith(
            'https://sqlalche.me/e/21/e3q8)'), stderr)
        self.check_failed_row(env, error)

    def test_the_very_same_exception_propagates(self):
        env = self.sleeping_env(
            'from test.audit.test_failure_path import execute_and_keep; '
            'execute_and_keep(op, %r)')
        del SEEN[:]
        thread, errors = self.end_session_in_a_thread()
        try:  # (assertRaises drops the traceback)
            env.run('upgrade', 'head')
        except OperationalError as raised:
            error = raised
        thread.join()
        self.assertEqual(errors, [])
        (seen, seen_traceback), = SEEN
        self.assertIs(error, seen)
        self.assertTrue(error.connection_invalidated)
        # Only the driver's error before it; its traceback, grown on the
        # way out, ends as the one the script saw.
        self.assertIs(error.__context__, error.orig)
        seen_frames = traceback.extract_tb(seen_traceback)
        self.assertEqual(traceback.extract_tb(error.__traceback__)[
            -len(seen_frames):], seen_frames)
        self.check_failed_row(env, 'sqlalchemy.exc.OperationalError: %s' % (
            str(error).split('\n', 1)[0],))

    def refuse_connections_once_ended(self):
        """End the step's session in a thread, the engine refusing new
        connections from just before (as a server gone would): the
        thread, the errors it met and the event whose clearing lets
        connections be made again."""
        refused = threading.Event()
        driver_error = self.engine.dialect.loaded_dbapi.OperationalError

        def refuse(dialect, connection_record, cargs, cparams):
            if refused.is_set():
                raise driver_error('refused by the test')
        event.listen(self.engine, 'do_connect', refuse)
        self.addCleanup(event.remove, self.engine, 'do_connect', refuse)
        self.addCleanup(refused.clear)

        def refuse_from_now():
            refused.set()
            self.engine.pool.dispose()  # no idle one to reuse
        thread, errors = self.end_session_in_a_thread(before=refuse_from_now)
        return thread, errors, refused

    def test_no_fresh_connection_after_the_session_ended(self):
        env = self.sleeping_env(
            'from test.audit.test_failure_path import execute_and_keep; '
            'execute_and_keep(op, %r)')
        del SEEN[:]
        thread, errors, refused = self.refuse_connections_once_ended()
        with self.assertLogs(level=logging.WARNING) as logs:
            try:
                env.run('upgrade', 'head')
            except OperationalError as raised:
                error = raised
        thread.join()
        self.assertEqual(errors, [])
        (seen, _), = SEEN
        self.assertIs(error, seen)  # unchanged, not the refusal
        self.assertIs(error.__context__, error.orig)
        self.assertNotIn('refused by the test', str(error))
        self.assertEqual(len(logs.records), 1, logs.output)
        self.assertIn('could not record the failed attempt in '
                      'alembic_version_history', logs.output[0])
        self.assertIn('refused by the test', logs.output[0])
        refused.clear()
        if self.dialect_name == 'postgresql':  # one transaction, undone
            self.assertFalse(inspect(self.engine).has_table(
                'alembic_version_history'))
        else:
            self.assertEqual(steps(env.history()), [('', 'A', 'ok')])

    def test_in_the_callers_transaction(self):
        # The program's transaction died with the session: the failed
        # row goes on a fresh connection, and the rows held for it are
        # dropped without a word of ours.
        env = self.sleeping_env('op.execute(%r)')
        thread, errors = self.end_session_in_a_thread()
        with self.engine.connect() as connection:
            transaction = connection.begin()
            with self.assertRaises(OperationalError) as raised:
                env.run('upgrade', 'head', connection=connection)
            self.assertTrue(raised.exception.connection_invalidated)
            with self.assertRaises(Exception) as committing:
                transaction.commit()
            self.assertNotIn('audit_alembic', ''.join(traceback.format_tb(
                committing.exception.__traceback__)))
            transaction.rollback()
        thread.join()
        self.assertEqual(errors, [])
        rows = env.history()
        self.assertEqual(rows[-1]['alembic_version'], 'B')
        self.assertEqual(rows[-1]['status'], 'failed')
        self.assertIn('OperationalError', rows[-1]['error'])


class InterruptWhileLockedTest(FailurePathTestBase):
    """Ctrl-C while another session holds the lock that recording the
    failure needs; bare Alembic would end at once."""

    def setUp(self):
        if self.dialect_name != 'sqlite':
            self.server()

    def locked_env(self, table='alembic_version'):
        """A project at revision A, whose ``table`` (on SQLite, whose
        database) another session holds locked; its step B sleeps on
        SQLite."""
        sqlite = self.dialect_name == 'sqlite'
        env = self.process_scratch_env([Rev('A')], auditor=details_auditor())
        if sqlite:
            # SQLite's own wait for a lock cannot be interrupted: the
            # step waits in Python, the recording for the lock.
            self.marker = os.path.join(env.directory, 'step_b_started')
            env.add_revision(Rev('B', 'A', upgrade=(
                'open(%r, "w").close(); import time; time.sleep(30)'
                % self.marker), downgrade='pass'))
        else:
            env.add_revision(Rev('B', 'A'))
        env.run('upgrade', 'A')
        if sqlite:
            holder = sqlite3.connect(env.engine.url.database,
                                     isolation_level=None)
            holder.execute('BEGIN IMMEDIATE')
            ends = [lambda: holder.execute('ROLLBACK'), holder.close]
        else:
            holder = env.engine.connect()
            ends = [holder.rollback, holder.close]
            if self.server()['unlock']:
                ends.insert(0, lambda: holder.exec_driver_sql(
                    self.server()['unlock']))
            try:
                holder.execute(text(self.server()['lock'] % table))
            except BaseException:
                holder.close()
                raise

        def release():
            while ends:
                ends.pop(0)()
        #: Ends the other session's lock (later, a cleanup does).
        self.release = release
        self.addCleanup(release)
        return env

    def wait_for_the_deploy(self, process):
        """The id of the session waiting for the lock (SQLite: None, once
        step B sleeps)."""
        if self.dialect_name == 'sqlite':
            deadline = time.monotonic() + 30
            while not os.path.exists(self.marker):
                self.assertIsNone(process.poll(), 'alembic ended early')
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.02)
            return None
        with self.engine.connect() as connection:
            return self.poll(connection, self.server()['waiting'],
                             process=process)

    def wait_for_the_recording(self, process, deploy):
        if self.dialect_name == 'sqlite':
            time.sleep(0.5)  # it tries to take the lock meanwhile
            self.assertIsNone(process.poll(), 'alembic ended early')
            return
        with self.engine.connect() as connection:
            self.poll(connection, self.server()['waiting'],
                      exclude={deploy}, process=process)

    def check_interrupted(self, process, stderr, warning,
                          place='in get_current_heads'):
        """Killed by the original KeyboardInterrupt, alone, as bare
        Alembic is; one warning of ours before it (None: no warning)."""
        self.assertEqual(shell_status(process.returncode), INTERRUPTED,
                         stderr)
        self.assertEqual(stderr.rstrip().rpartition('\n')[2],
                         'KeyboardInterrupt', stderr)
        self.assertEqual(stderr.count('Traceback (most recent call last)'),
                         1, stderr)
        self.assertNotIn('During handling of the above exception', stderr)
        self.assertNotIn('PendingRollbackError', stderr)
        self.assertNotIn(os.path.join('audit_alembic', 'failure.py'),
                         stderr)
        # Where the deploy was when Ctrl-C came.
        self.assertIn('B_revision_b.py' if self.dialect_name == 'sqlite'
                      else place, stderr)
        ours = [line for line in stderr.splitlines()
                if line.startswith('WARNING')]
        if warning is None:
            self.assertEqual(ours, [], stderr)
            return
        self.assertEqual(len(ours), 1, stderr)
        self.assertTrue(ours[0].startswith(
            'WARNING [audit_alembic.auditor] ' + warning), stderr)

    def test_recording_gives_up_after_the_timeout(self):
        self.check_gives_up('alembic_version', 'in get_current_heads')

    def test_with_the_history_table_locked(self):
        # The run waits before any step, as the schema watch reads the
        # history's last snapshot (PostgreSQL earlier still, reading the
        # table's columns): Ctrl-C ends it at once, as bare Alembic, and
        # nothing is recorded.  (SQLite has one lock.)
        if self.dialect_name not in ('mysql', 'mariadb'):
            self.skipTest('MySQL and MariaDB')
        env = self.locked_env('alembic_version_history')
        process = start_alembic(env, 'upgrade', 'head', record_timeout=1.0)
        self.stop_later(process)
        self.wait_for_the_deploy(process)
        process.send_signal(signal.SIGINT)
        stderr = self.end(process, SLACK)
        self.check_interrupted(process, stderr, None, 'in check')
        self.release()
        self.assertEqual(steps(env.history()), [('', 'A', 'ok')])

    def check_gives_up(self, table, place):
        env = self.locked_env(table)
        timeout = 1.0
        process = start_alembic(env, 'upgrade', 'head',
                                record_timeout=timeout)
        self.stop_later(process)
        self.wait_for_the_deploy(process)
        process.send_signal(signal.SIGINT)
        stderr = self.end(process, timeout + SLACK)
        self.check_interrupted(
            process, stderr, 'could not record the failed attempt in '
            'alembic_version_history: ', place)
        self.release()
        self.assertEqual(steps(env.history()), [('', 'A', 'ok')])

    def test_a_second_interrupt_ends_at_once(self):
        env = self.locked_env()
        process = start_alembic(env, 'upgrade', 'head', record_timeout=60)
        self.stop_later(process)
        deploy = self.wait_for_the_deploy(process)
        process.send_signal(signal.SIGINT)
        self.wait_for_the_recording(process, deploy)
        process.send_signal(signal.SIGINT)
        stderr = self.end(process, SLACK)
        self.check_interrupted(
            process, stderr, 'interrupted: the failed attempt was not '
            'recorded in alembic_version_history')
        self.release()
        self.assertEqual(steps(env.history()), [('', 'A', 'ok')])


class BoundedTest(FailurePathTestBase):
    """:func:`.failure.bounded`, on each dialect: a wait for a lock ends
    at the bound, and the session's settings are restored after."""

    BOUND = 0.3

    def test_waits_at_most_the_bound_then_restores(self):
        if self.dialect_name == 'sqlite':
            return self.check_sqlite()
        server = self.server()
        env = self.scratch_env([Rev('A')])
        env.run('upgrade', 'A')
        holder = self.engine.connect()
        self.addCleanup(holder.close)
        holder.execute(text(server['lock'] % 'alembic_version'))
        if server['unlock']:
            self.addCleanup(holder.exec_driver_sql, server['unlock'])
        with self.engine.connect() as connection:
            before = self.settings(connection)
            start = time.monotonic()
            with self.assertRaises(OperationalError):
                with failure.bounded(connection, self.BOUND):
                    connection.execute(text(
                        'SELECT * FROM alembic_version')).all()
            # MySQL's lock wait timeouts count whole seconds.
            self.assertLess(time.monotonic() - start, 1 + SLACK)
            connection.rollback()
            self.assertEqual(self.settings(connection), before)

    def test_other_connections_of_the_engine_until_they_go_back(self):
        # MySQL and MariaDB: the recording reads the chain's last row on
        # another connection of the engine.
        if self.dialect_name not in ('mysql', 'mariadb'):
            self.skipTest('MySQL and MariaDB')

        def session(dbapi_connection):
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute('SELECT @@SESSION.lock_wait_timeout')
                return cursor.fetchall()[0][0]
            finally:
                cursor.close()
        with self.engine.connect() as connection:
            default = self.settings(connection)[0]
            self.assertNotEqual(default, 1)
            with failure.bounded(connection, self.BOUND):
                with self.engine.connect() as other:
                    dbapi_connection = other.connection.dbapi_connection
                    self.assertEqual(session(dbapi_connection), 1)
                # Back in the pool, idle: as it was.
                self.assertEqual(session(dbapi_connection), default)
            with self.engine.connect() as other:  # opened after: as is
                self.assertEqual(self.settings(other)[0], default)

    def settings(self, connection):
        if self.dialect_name == 'postgresql':
            query = ("SELECT current_setting('lock_timeout'), "
                     "current_setting('statement_timeout')")
        else:
            query = ('SELECT @@SESSION.lock_wait_timeout, '
                     '@@SESSION.innodb_lock_wait_timeout')
        return tuple(connection.execute(text(query)).one())

    def check_sqlite(self):
        from sqlalchemy import create_engine
        engine = create_engine(self.file_database_url())
        self.addCleanup(engine.dispose)
        with engine.connect() as connection:
            connection.exec_driver_sql('PRAGMA user_version = 1')
            connection.commit()
            path = engine.url.database
            holder = sqlite3.connect(path, isolation_level=None)
            self.addCleanup(holder.close)
            holder.execute('BEGIN IMMEDIATE')
            before = connection.exec_driver_sql(
                'PRAGMA busy_timeout').scalar()
            start = time.monotonic()
            with self.assertRaises(OperationalError):
                with failure.bounded(connection, self.BOUND):
                    pass
            self.assertLess(time.monotonic() - start, self.BOUND + SLACK)
            self.assertGreaterEqual(time.monotonic() - start, self.BOUND)
            self.assertEqual(connection.exec_driver_sql(
                'PRAGMA busy_timeout').scalar(), before)
            holder.execute('ROLLBACK')


class DocumentedTimeoutTest(TestBase):

    def test_readme_states_the_timeout(self):
        with open(os.path.join(paths.PACKAGE_ROOT, 'README.rst'),
                  encoding='utf-8') as f:
            readme = f.read()
        stated = ('%d seconds (``audit_alembic.failure.RECORD_TIMEOUT``)'
                  % failure.RECORD_TIMEOUT)
        self.assertTrue(stated in ' '.join(readme.split()), stated)
