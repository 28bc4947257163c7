"""``Auditor.create(details=True)``: run ids, who and where, durations,
script checksums, messages, and the attempts that failed."""
import datetime
import hashlib
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from alembic import command
from alembic.runtime.migration import MigrationInfo
from alembic.script import ScriptDirectory
from sqlalchemy import Column
from sqlalchemy import Integer
from sqlalchemy import MetaData
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import inspect
from sqlalchemy import text

from audit_alembic import Auditor
from audit_alembic import DetailColumnValues
from audit_alembic import exc
from audit_alembic import paths
from audit_alembic.auditor import TableSetupError
from audit_alembic.schema import index_name
from audit_alembic.facts import script_checksum
from audit_alembic.testing.fixtures import Rev
from audit_alembic.testing.fixtures import TestBase
from audit_alembic.values import DEFAULT_TABLE_NAME
from audit_alembic.values import DETAIL_COLUMNS
from test.audit.graphs import LINEAR
from test.audit.test_offline import statements

#: The exception a scratch migration raises in some tests, so that they
#: can check it is re-raised as the very same object.
ERROR = RuntimeError('the original error')
RAISE_ERROR = 'from test.audit.test_details import ERROR; raise ERROR'


def details_auditor(**kw):
    return Auditor.create('1.0', details=True, **kw)


def steps(rows):
    return [(r['prev_alembic_version'], r['alembic_version'], r['status'])
            for r in rows]


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class DetailsTestBase(TestBase):
    __backend__ = True

    def details_env(self, revisions=LINEAR, **kw):
        kw.setdefault('auditor', details_auditor())
        return self.scratch_env(revisions, **kw)

    def process_env(self, revisions):
        """A scratch project on a database other processes reach, run by
        the real ``alembic`` command with the shipped env.py (whose
        Auditor has details)."""
        return self.process_scratch_env(revisions, auditor=details_auditor())

    def script_path(self, env, revision):
        return ScriptDirectory.from_config(env.config).get_revision(
            revision).path


class DetailsTest(DetailsTestBase):

    def test_one_run_id_per_command(self):
        env = self.details_env()
        env.run('upgrade', 'head')
        env.run('downgrade', '-1')
        rows = env.history()
        self.assertEqual(steps(rows), [
            ('', 'A', 'ok'), ('A', 'B', 'ok'), ('B', 'C', 'ok'),
            ('C', 'B', 'ok')])
        self.assertEqual(len({r['run_id'] for r in rows[:3]}), 1)
        self.assertNotEqual(rows[3]['run_id'], rows[0]['run_id'])
        self.assertEqual(len(rows[0]['run_id']), 36)
        self.assertTrue(all(r['error'] is None for r in rows))

    def test_who_and_where(self):
        env = self.details_env()
        env.run('upgrade', 'A')
        row, = env.history()
        if self.dialect_name == 'sqlite':
            self.assertIsNone(row['db_user'])
        else:
            self.assertEqual(row['db_user'], self.url.username)
        import getpass
        import socket
        self.assertEqual(row['os_user'], getpass.getuser())
        self.assertEqual(row['host'], socket.gethostname())
        self.assertEqual(row['message'], 'revision A')

    def test_duration_of_a_slow_step(self):
        env = self.details_env([
            Rev('A'),
            Rev('B', 'A', upgrade='import time; time.sleep(0.25)',
                downgrade='pass')])
        env.run('upgrade', 'head')
        a, b = env.history()
        self.assertGreaterEqual(b['duration_ms'], 250)
        self.assertLess(a['duration_ms'], 250)
        self.assertGreaterEqual(a['duration_ms'], 0)

    def test_script_checksum_follows_the_script(self):
        env = self.details_env()
        env.run('upgrade', 'A')
        path = self.script_path(env, 'A')
        with open(path, 'rb') as f:
            original = f.read()
        first, = env.history()
        self.assertEqual(first['script_checksum'],
                         hashlib.sha256(original).hexdigest())
        env.run('downgrade', 'base')
        with open(path, 'ab') as f:
            f.write(b'# edited after deployment\n')
        env.run('upgrade', 'A')
        down, again = env.history()[1:]
        # The downgrade ran the script as it was; the upgrade, as edited.
        self.assertEqual(down['script_checksum'], first['script_checksum'])
        self.assertNotEqual(again['script_checksum'],
                            first['script_checksum'])
        self.assertEqual(again['script_checksum'], script_checksum(path))

    def test_stamp_records_the_destination_script(self):
        env = self.details_env()
        env.run('stamp', 'B')
        row, = env.history()
        self.assertEqual(row['script_checksum'],
                         script_checksum(self.script_path(env, 'B')))
        env.run('stamp', 'base')
        self.assertIsNone(env.history()[1]['script_checksum'])

    def test_indexes_on_time_and_run(self):
        env = self.details_env()
        env.run('upgrade', 'A')
        indexes = {i['name']: i['column_names'] for i in
                   inspect(self.engine).get_indexes(DEFAULT_TABLE_NAME)}
        self.assertEqual(
            indexes[index_name(DEFAULT_TABLE_NAME, None, 'changed_at')],
            ['changed_at'])
        self.assertEqual(
            indexes[index_name(DEFAULT_TABLE_NAME, None, 'run_id')],
            ['run_id'])
        self.assertNotEqual(index_name('a', None, 'run_id'),
                            index_name('b', None, 'run_id'))

    def test_without_details_the_table_stays_as_0_2_0_made_it(self):
        env = self.scratch_env(LINEAR)
        env.run('upgrade', 'A')
        columns = {c['name'] for c in
                   inspect(self.engine).get_columns(DEFAULT_TABLE_NAME)}
        self.assertFalse(columns & set(DETAIL_COLUMNS))
        self.assertEqual(inspect(self.engine).get_indexes(
            DEFAULT_TABLE_NAME), [])

    def test_env_py_without_run_migrations_records_details(self):
        env = self.details_env()
        env_py = os.path.join(env.directory, 'scripts', 'env.py')
        with open(env_py) as f:
            source = f.read()
        plain = source.replace(
            'auditor.run_migrations(context)',
            'with context.begin_transaction():\n'
            '            context.run_migrations()')
        self.assertNotEqual(plain, source)
        with open(env_py, 'w') as f:
            f.write(plain)
        env.run('upgrade', 'head')
        rows = env.history()
        self.assertEqual(steps(rows), [
            ('', 'A', 'ok'), ('A', 'B', 'ok'), ('B', 'C', 'ok')])
        self.assertEqual(len({r['run_id'] for r in rows}), 1)
        self.assertTrue(all(r['script_checksum'] for r in rows))
        # The run's start is unknown there: only later steps are timed.
        self.assertIsNone(rows[0]['duration_ms'])
        self.assertIsNotNone(rows[1]['duration_ms'])

    def test_custom_table_takes_detail_values(self):
        table = Table('custom_history', MetaData(),
                      Column('id', Integer, primary_key=True),
                      Column('rev', String(64)), Column('run', String(36)),
                      Column('who', String(255)))
        auditor = Auditor(table, {
            'rev': lambda step, **_: step.up_revision_id,
            'run': DetailColumnValues.run_id,
            'who': DetailColumnValues.os_user})
        env = self.scratch_env(LINEAR, auditor=auditor)
        env.own('custom_history')
        env.run('upgrade', 'head')
        rows = env.history('custom_history')
        self.assertEqual([r['rev'] for r in rows], ['A', 'B', 'C'])
        self.assertEqual(len({r['run'] for r in rows}), 1)
        self.assertTrue(all(r['who'] for r in rows))


class ChecksumTest(TestBase):

    def test_line_endings_do_not_change_the_checksum(self):
        folder = tempfile.mkdtemp(prefix='audit_alembic_checksum_')
        self.addCleanup(shutil.rmtree, folder, True)
        unix = os.path.join(folder, 'unix.py')
        windows = os.path.join(folder, 'windows.py')
        with open(unix, 'wb') as f:
            f.write(b'"""x"""\nrevision = "a"\n')
        with open(windows, 'wb') as f:
            f.write(b'"""x"""\r\nrevision = "a"\r\n')
        self.assertEqual(script_checksum(unix), script_checksum(windows))
        self.assertEqual(script_checksum(unix), hashlib.sha256(
            b'"""x"""\nrevision = "a"\n').hexdigest())
        self.assertIsNone(script_checksum(os.path.join(folder, 'none.py')))


class FailedAttemptTest(DetailsTestBase):

    def test_failure_leaves_one_failed_row_and_reraises_the_original(self):
        env = self.details_env([
            Rev('A'), Rev('B', 'A', upgrade=RAISE_ERROR, downgrade='pass')])
        env.run('upgrade', 'A')
        try:
            env.run('upgrade', 'head')
        except RuntimeError as error:
            raised = error
        self.assertIs(raised, ERROR)
        # Its traceback still ends in the script that raised it.
        tb = raised.__traceback__
        while tb.tb_next:
            tb = tb.tb_next
        self.assertEqual(os.path.realpath(tb.tb_frame.f_code.co_filename),
                         os.path.realpath(self.script_path(env, 'B')))
        self.assertEqual(env.heads(), {'A'})
        rows = env.history()
        self.assertEqual(steps(rows), [('', 'A', 'ok'), ('A', 'B', 'failed')])
        failed = rows[1]
        self.assertEqual(failed['error'],
                         'RuntimeError: the original error')
        self.assertEqual(failed['operation_direction'], 'up')
        self.assertEqual(failed['operation_type'], 'migration')
        self.assertEqual(failed['script_checksum'],
                         script_checksum(self.script_path(env, 'B')))
        self.assertNotEqual(failed['run_id'], rows[0]['run_id'])
        self.assertIsNotNone(failed['duration_ms'])

    def test_failed_downgrade(self):
        env = self.details_env([
            Rev('A'), Rev('B', 'A', upgrade='pass', downgrade=RAISE_ERROR)])
        env.run('upgrade', 'head')
        with self.assertRaises(RuntimeError):
            env.run('downgrade', 'A')
        self.assertEqual(env.heads(), {'B'})
        failed = env.history()[-1]
        self.assertEqual(
            (failed['prev_alembic_version'], failed['alembic_version'],
             failed['operation_direction'], failed['status']),
            ('B', 'B', 'down', 'failed'))

    def test_failure_in_the_third_step_of_one_run(self):
        env = self.details_env([Rev('A'), Rev('B', 'A'),
                                Rev('C', 'B', upgrade=RAISE_ERROR,
                                    downgrade='pass')])
        with self.assertRaises(RuntimeError):
            env.run('upgrade', 'head')
        rows = env.history()
        if self.engine.dialect.name == 'postgresql':
            # One transaction for the run: steps 1-2 rolled back too.
            self.assertEqual(env.heads(), set())
            self.assertEqual(steps(rows), [('', 'C', 'failed')])
        else:
            # DDL commits each step by itself (MariaDB; SQLite here as
            # Alembic runs it, a transaction per step).
            self.assertEqual(env.heads(), {'B'})
            self.assertEqual(steps(rows), [
                ('', 'A', 'ok'), ('A', 'B', 'ok'), ('B', 'C', 'failed')])
            self.assertEqual(len({r['run_id'] for r in rows}), 1)

    def test_keyboard_interrupt_counts_as_a_failure(self):
        env = self.details_env([Rev('A', upgrade='raise KeyboardInterrupt',
                                    downgrade='pass')])
        with self.assertRaises(KeyboardInterrupt):
            env.run('upgrade', 'head')
        row, = env.history()
        self.assertEqual((row['status'], row['alembic_version'],
                          row['error']), ('failed', 'A', 'KeyboardInterrupt'))

    def test_failure_outside_a_script_names_the_target(self):
        def explode(step=None, **_):
            # In the hook for step B, not for the failed attempt's row.
            if isinstance(step, MigrationInfo) and step.up_revision_id == 'B':
                raise ERROR
            return '1.0'
        env = self.details_env(auditor=Auditor.create(
            explode, details=True))
        with self.assertRaises(RuntimeError):
            env.run('upgrade', 'B')
        failed = env.history()[-1]
        self.assertEqual((failed['alembic_version'], failed['status']),
                         ('B', 'failed'))

    def test_unwritable_failed_row_warns_and_keeps_the_error(self):
        def no_failed_rows(step=None, **_):
            if step.__class__.__name__ == 'FailedAttempt':
                raise ValueError('cannot build it')
            return '1.0'
        env = self.details_env(
            [Rev('A', upgrade=RAISE_ERROR, downgrade='pass')],
            auditor=Auditor.create(no_failed_rows, details=True))
        with self.assertLogs('audit_alembic.auditor', 'WARNING') as logs, \
                self.assertRaises(RuntimeError) as raised:
            env.run('upgrade', 'head')
        self.assertIs(raised.exception, ERROR)
        self.assertIn('could not record the failed attempt', logs.output[0])
        self.assertIn('cannot build it', logs.output[0])

    def test_plain_auditor_records_no_failures(self):
        env = self.scratch_env([Rev('A', upgrade=RAISE_ERROR,
                                    downgrade='pass')])
        with self.assertRaises(RuntimeError) as raised:
            env.run('upgrade', 'head')
        self.assertIs(raised.exception, ERROR)
        self.assertFalse(inspect(self.engine).has_table(DEFAULT_TABLE_NAME))

    def test_error_hides_passwords(self):
        env = self.details_env([Rev('A', upgrade=(
            'raise ValueError("cannot reach '
            'postgresql://me:s3cret@db/app")'), downgrade='pass')])
        with self.assertRaises(ValueError):
            env.run('upgrade', 'head')
        row, = env.history()
        self.assertNotIn('s3cret', row['error'])
        self.assertTrue(row['error'].startswith('ValueError: cannot reach'))

    def test_error_is_cut_to_2000_characters(self):
        env = self.details_env([Rev('A', upgrade='raise ValueError("x" * '
                                    '5000)', downgrade='pass')])
        with self.assertRaises(ValueError):
            env.run('upgrade', 'head')
        row, = env.history()
        self.assertEqual(len(row['error']), 2000)


class CompletingAnOldTableTest(DetailsTestBase):

    def test_0_2_0_table_gets_the_columns_and_keeps_its_rows(self):
        env = self.scratch_env(LINEAR)  # a plain, 0.2.0-shaped table
        env.run('upgrade', 'A')
        old, = env.history()
        env.config.attributes['auditor'] = details_auditor()
        with self.assertLogs('audit_alembic.auditor', 'INFO') as logs:
            env.run('upgrade', 'head')
        self.assertIn('added column run_id', '\n'.join(logs.output))
        rows = env.history()
        self.assertEqual(rows[0], dict(old, **{c: None
                                               for c in DETAIL_COLUMNS}))
        self.assertEqual(steps(rows[1:]), [('A', 'B', 'ok'),
                                           ('B', 'C', 'ok')])
        self.assertTrue(all(r['run_id'] for r in rows[1:]))
        names = {i['name'] for i in
                 inspect(self.engine).get_indexes(DEFAULT_TABLE_NAME)}
        self.assertIn(index_name(DEFAULT_TABLE_NAME, None, 'run_id'), names)

    def test_columns_that_cannot_be_added_fail_before_any_step(self):
        # A view stands in for a table whose owner is somebody else:
        # columns cannot be added to it.
        env = self.process_env(LINEAR)
        backing = 'aa_test_old_history'
        engine = env.engine
        with engine.begin() as connection:
            connection.execute(text(
                'CREATE TABLE %s (id INTEGER PRIMARY KEY, '
                'alembic_version VARCHAR(255), '
                'prev_alembic_version VARCHAR(255), '
                'operation_type VARCHAR(32), operation_direction VARCHAR(32), '
                'user_version VARCHAR(255), changed_at TIMESTAMP NULL)'
                % backing))
            connection.execute(text('CREATE VIEW %s AS SELECT * FROM %s'
                                    % (DEFAULT_TABLE_NAME, backing)))

        def drop():
            with engine.begin() as connection:
                connection.execute(text('DROP VIEW %s' % DEFAULT_TABLE_NAME))
                connection.execute(text('DROP TABLE %s' % backing))
        self.addCleanup(drop)
        result = env.alembic('upgrade', 'head')
        output = result.stdout + result.stderr
        # Alembic's own way with a CommandError: one line, exit 255.
        self.assertEqual(result.returncode, 255, output)
        self.assertNotIn('Traceback', output)
        message, = output.strip().splitlines()
        self.assertRegex(message, r'^FAILED: table alembic_version_history '
                                  r'lacks column\(s\) run_id, status, ')
        self.assertIn('ADD COLUMN', message)
        self.assertEqual(env.heads(), set())
        self.assertTrue(issubclass(TableSetupError, exc.AuditSetupError))


class FailedAttemptCommandLineTest(DetailsTestBase):
    """The real ``alembic`` command, with the shipped env.py."""

    def test_stderr_shows_the_original_error(self):
        env = self.process_env([Rev('A'), Rev('B', 'A', upgrade=(
            'raise LookupError("no such column: price")'),
            downgrade='pass')])
        result = env.alembic('upgrade', 'head')
        self.assertNotEqual(result.returncode, 0)
        self.assertIn('LookupError: no such column: price', result.stderr)
        rows = env.history()
        if self.dialect_name == 'postgresql':  # one transaction, undone
            self.assertEqual(env.heads(), set())
            self.assertEqual(steps(rows), [('', 'B', 'failed')])
        else:
            self.assertEqual(env.heads(), {'A'})
            self.assertEqual(steps(rows), [('', 'A', 'ok'),
                                           ('A', 'B', 'failed')])
        self.assertEqual(rows[-1]['error'],
                         'LookupError: no such column: price')

    def test_kill_9_mid_step_leaves_no_ok_row_for_it(self):
        env = self.process_env([Rev('A'), Rev('B', 'A')])
        marker = os.path.join(env.directory, 'step_b_started')
        path = self.script_path(env, 'B')
        with open(path) as f:
            source = f.read()
        with open(path, 'w') as f:
            f.write(source.replace(
                '    op.create_table(',
                '    open(%r, "w").close()\n'
                '    import time\n'
                '    time.sleep(60)\n'
                '    op.create_table(' % marker, 1))
        process = subprocess.Popen(
            [sys.executable, '-m', 'alembic', '-c', env.ini_path, 'upgrade',
             'head'], cwd=env.directory, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, env=paths.child_environment())
        self.addCleanup(process.wait)
        self.addCleanup(process.kill)
        deadline = time.monotonic() + 60
        while not os.path.exists(marker):
            self.assertIsNone(process.poll(), 'alembic ended early')
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.02)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        rows = [(r['alembic_version'], r['status']) for r in env.history()] \
            if inspect(env.engine).has_table(DEFAULT_TABLE_NAME) else []
        self.assertNotIn(('B', 'ok'), rows)
        self.assertNotIn('B', env.heads())


class OfflineDetailsTest(DetailsTestBase):

    def test_script_evaluates_time_and_user_when_run(self):
        env = self.details_env()
        script = env.sql('upgrade', 'head')
        self.assertNotRegex(script, r"'\d{4}-\d\d-\d\d[ T]\d\d:\d\d")
        before = utcnow().replace(microsecond=0) - datetime.timedelta(
            seconds=2)
        with self.engine.begin() as connection:
            for statement in statements(script):
                connection.execute(text(statement).execution_options(
                    no_parameters=True))
        rows = env.history()
        self.assertEqual(steps(rows), [
            ('', 'A', 'ok'), ('A', 'B', 'ok'), ('B', 'C', 'ok')])
        for row in rows:
            changed_at = row['changed_at']
            if isinstance(changed_at, str):  # SQLite's own format
                changed_at = datetime.datetime.fromisoformat(changed_at)
            self.assertGreaterEqual(changed_at, before)
            self.assertLessEqual(changed_at,
                                 utcnow() + datetime.timedelta(seconds=2))
            self.assertIsNone(row['host'])
            self.assertIsNone(row['os_user'])
            self.assertIsNone(row['duration_ms'])
            self.assertEqual(row['db_user'], None
                             if self.dialect_name == 'sqlite'
                             else self.url.username)
            self.assertIsNotNone(row['script_checksum'])
        self.assertEqual(len({r['run_id'] for r in rows}), 1)

    def test_run_migrations_offline_is_alembics(self):
        env = self.details_env([Rev('A', upgrade=RAISE_ERROR,
                                    downgrade='pass')])
        # The script goes to a buffer of the test's, not the run's output.
        env.config.output_buffer = script = io.StringIO()
        with self.assertRaises(RuntimeError) as raised:
            command.upgrade(env.config, 'head', sql=True)
        self.assertIs(raised.exception, ERROR)
        self.assertIn('-- Running upgrade  -> A', script.getvalue())


class CallersTransactionTest(DetailsTestBase):
    """Alembic run on a connection inside the program's own transaction:
    the failed row is written in it, and follows its fate."""

    def run_failing(self, env, commit):
        with self.engine.connect() as connection:
            transaction = connection.begin()
            with self.assertRaises(RuntimeError) as raised:
                env.run('upgrade', 'head', connection=connection)
            self.assertIs(raised.exception, ERROR)
            if commit:
                transaction.commit()
            else:
                transaction.rollback()

    def test_committed_with_the_program(self):
        env = self.details_env([
            Rev('A'), Rev('B', 'A', upgrade=RAISE_ERROR, downgrade='pass')])
        self.run_failing(env, commit=True)
        self.assertEqual(steps(env.history()),
                         [('', 'A', 'ok'), ('A', 'B', 'failed')])

    def test_rolled_back_with_the_program(self):
        env = self.details_env([Rev('A', upgrade=RAISE_ERROR,
                                    downgrade='pass')])
        self.run_failing(env, commit=False)
        has_table = inspect(self.engine).has_table(DEFAULT_TABLE_NAME)
        self.assertEqual(env.history() if has_table else [], [])
