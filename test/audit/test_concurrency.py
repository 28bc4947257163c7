"""Several ``alembic upgrade head`` processes at once (see
bench/concurrent_upgrades.py for the longer race)."""
import os
import re
import threading
import unittest
import unittest.mock
import warnings

from audit_alembic.testing.fixtures import AlembicProcess
from audit_alembic.testing.fixtures import TestBase
from audit_alembic.values import DEFAULT_TABLE_NAME
from test.audit.graphs import LINEAR

PROCESSES = 3

#: How bare Alembic fails when it loses the race, as the losers print it
#: (the exception that ended them, with the lines that follow).  Seen
#: here, over many runs: a table already exists (all backends; on
#: PostgreSQL mostly as its catalog's unique index).  The others are the
#: rest of Alembic's races: on the version table's row, and on locks.
RACE_ERRORS = re.compile('|'.join([
    # A table another process created meanwhile; on PostgreSQL also as
    # the unique index of its catalog of types.
    r'already exists',
    r'duplicate key value violates unique constraint '
    r'"pg_type_typname_nsp_index"',
    # The version table's row, written by another process meanwhile.
    r'duplicate key value violates unique constraint "alembic_version_pkc"',
    r"Duplicate entry '\w+' for key",
    r'UNIQUE constraint failed: alembic_version\.version_num',
    r'expected to match one row when updating',
    # Waiting for another process's lock.
    r'deadlock detected|Deadlock found',
    r'Lock wait timeout exceeded',
    r'database is locked',
]))
#: The line of the exception that ended a process: a traceback's last
#: line, or what Alembic's command line prints for its CommandError.
EXCEPTION_LINE = re.compile(r'^(FAILED: |[\w.]+(Error|Exception)\b)', re.M)


def final_error(stderr):
    """What a process printed from the line of the exception that ended
    it on; '' if it printed none (killed, say)."""
    found = list(EXCEPTION_LINE.finditer(stderr))
    return stderr[found[-1].start():] if found else ''


def lost_the_race(process):
    """Whether ``process`` failed as bare Alembic fails when another
    process changes the database under it, and never over the history.

    A traceback ends stderr; Alembic's own errors print ``FAILED:`` on
    stdout.
    """
    output = process.stderr + process.stdout
    return process.returncode > 0 and \
        bool(RACE_ERRORS.search(final_error(output))) and \
        DEFAULT_TABLE_NAME not in final_error(output)


class ConcurrentUpgradeTest(TestBase):
    __backend__ = True

    def test_processes_racing_record_each_step_once(self):
        env = self.process_scratch_env(LINEAR)
        running = [AlembicProcess(env.ini_path, 'upgrade', 'head',
                                  environ={'APP_VERSION': '1.0'})
                   for _ in range(PROCESSES)]
        for process in running:
            process.wait()
        won = [process for process in running if process.returncode == 0]
        for process in running:
            self.assertTrue(process in won or lost_the_race(process),
                            'exit status %s:\n%s%s' % (
                                process.returncode, process.stderr,
                                process.stdout))
        self.assertTrue(won, 'no process upgraded the database')
        self.assertEqual(env.heads(), {'C'})
        history = env.history()
        self.assertEqual(
            [(row['prev_alembic_version'], row['alembic_version'])
             for row in history if row['status'] != 'failed'],
            [('', 'A'), ('A', 'B'), ('B', 'C')])
        # Failed attempts come from the processes that lost, with their
        # error (a loser may also fail before any step, or find the
        # database locked while recording it).
        failed = [row for row in history if row['status'] == 'failed']
        self.assertLessEqual(len(failed), len(running) - len(won))
        self.assertTrue(all(row['error'] for row in failed))


class LostTheRaceTest(unittest.TestCase):
    """What counts as losing the race, on what the losers print."""

    def process(self, stderr, returncode=1, stdout=''):
        return type('Process', (), {'returncode': returncode,
                                    'stdout': stdout, 'stderr': stderr})()

    def test_alembics_own_race_errors(self):
        for stderr in [
                'Traceback ...\nsqlalchemy.exc.OperationalError: '
                '(sqlite3.OperationalError) table scratch_a already exists\n'
                '[SQL: \nCREATE TABLE scratch_a (...)]\n',
                'sqlalchemy.exc.IntegrityError: (psycopg.errors.'
                'UniqueViolation) duplicate key value violates unique '
                'constraint "pg_type_typname_nsp_index"\nDETAIL:  Key '
                '(typname, typnamespace)=(alembic_version, 2200) already '
                'exists.\n',
                'sqlalchemy.exc.OperationalError: (pymysql.err.Operational'
                'Error) (1050, "Table \'scratch_b\' already exists")\n',
                'sqlalchemy.exc.OperationalError: (sqlite3.OperationalError)'
                ' database is locked\n']:
            with self.subTest(stderr=stderr):
                self.assertTrue(lost_the_race(self.process(stderr)))
        self.assertTrue(lost_the_race(self.process(
            '', 255, "FAILED: Online migration expected to match one row "
            "when updating 'A' to 'B' in 'alembic_version'; 0 found\n")))
        # The auditor's own log line of the failed attempt comes first.
        self.assertTrue(lost_the_race(self.process(
            'INFO [audit_alembic.auditor] recorded a failed attempt at C in '
            '%s\nsqlalchemy.exc.OperationalError: (sqlite3.Operational'
            'Error) database is locked\n' % DEFAULT_TABLE_NAME)))

    def test_anything_else_is_a_failure(self):
        for stderr, returncode in [
                # A crash of ours, mentioning a table that exists too.
                ('sqlalchemy.exc.OperationalError: table scratch_a already '
                 'exists\nDuring handling...\nAttributeError: module '
                 "'audit_alembic.record' has no attribute 'x'\n", 1),
                # Over the history table.
                ('sqlalchemy.exc.OperationalError: table %s already exists'
                 '\n' % DEFAULT_TABLE_NAME, 1),
                ('', -9),  # killed, hanging
                ('ImportError: no module named alembic\n', 1)]:
            with self.subTest(stderr=stderr):
                self.assertFalse(lost_the_race(
                    self.process(stderr, returncode)))


class AlembicProcessTest(TestBase):
    """The processes of the races: Alembic's command line, in the test's
    working directory and environment as they are when it starts."""

    def test_runs_in_the_tests_directory_and_environment(self):
        env = self.process_scratch_env(LINEAR)
        self.addCleanup(os.chdir, os.getcwd())
        os.chdir(env.directory)
        with unittest.mock.patch.dict(os.environ, {'APP_VERSION': '7.7'}):
            process = AlembicProcess('alembic.ini', 'upgrade', 'A')
        self.assertEqual(process.wait(), 0, process.stderr)
        self.assertEqual([row['user_version'] for row in env.history()],
                         ['7.7'])
        process = AlembicProcess('alembic.ini', 'heads')
        self.assertEqual(process.wait(), 0, process.stderr)
        self.assertIn('C (head)', process.stdout)

    def test_no_fork_of_a_threaded_test_process(self):
        # Python 3.12+ warns of (and may deadlock on) a fork of a process
        # with threads, as pytest-xdist's workers are.
        env = self.process_scratch_env(LINEAR)
        done = threading.Event()
        thread = threading.Thread(target=done.wait)
        thread.start()
        try:
            with warnings.catch_warnings(record=True) as warned:
                warnings.simplefilter('always', DeprecationWarning)
                process = AlembicProcess(env.ini_path, 'heads')
        finally:
            done.set()
            thread.join()
        self.assertEqual(process.wait(), 0, process.stderr)
        self.assertEqual([str(w.message) for w in warned
                          if 'fork()' in str(w.message)], [])
