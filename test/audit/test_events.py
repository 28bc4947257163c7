"""Every row as an event: one record on ``audit_alembic.events`` per row
written, once it is committed; none for a row rolled back."""
import contextlib
import json
import logging
import os
import unittest
import warnings

from sqlalchemy import text

from audit_alembic import Auditor
from audit_alembic import events
from audit_alembic.testing.fixtures import Rev
from audit_alembic.testing.fixtures import TestBase
from audit_alembic.values import DEFAULT_TABLE_NAME
from test.audit.graphs import LINEAR
from test.audit.test_details import ERROR
from test.audit.test_details import RAISE_ERROR

#: Revisions without DDL (MariaDB commits DDL at once, ending savepoints).
QUIET = [Rev('A', upgrade='pass', downgrade='pass'),
         Rev('B', 'A', upgrade='pass', downgrade='pass'),
         Rev('C', 'B', upgrade='pass', downgrade='pass')]

#: A, then B raising.
FAILING_B = [Rev('A'), Rev('B', 'A', upgrade=RAISE_ERROR, downgrade='pass')]


class Collect(logging.Handler):
    def __init__(self, check=None):
        super().__init__(logging.DEBUG)
        self.records = []
        self.check = check

    def emit(self, record):
        if self.check is not None:
            self.check(record)
        self.records.append(record)


@contextlib.contextmanager
def listening(handler):
    """``handler`` on the events' logger, at INFO."""
    logger = logging.getLogger(events.EVENTS)
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


def details_auditor():
    return Auditor.create('1.0', details=True)


def hashes(rows):
    return [row['row_hash'] for row in rows]


class EventsTestBase(TestBase):
    __backend__ = True

    def capture(self, check=None):
        """The records emitted until the end of the test (a list)."""
        handler = Collect(check)
        stack = contextlib.ExitStack()
        stack.enter_context(listening(handler))
        self.addCleanup(stack.close)
        return handler.records

    def assertEventsAreRows(self, records, rows):
        """One event per row, in order, with its values."""
        self.assertEqual([r.audit['row_hash'] for r in records],
                         hashes(rows))
        for record, row in zip(records, rows):
            self.assertEqual(record.levelno, logging.INFO)
            self.assertEqual(record.name, 'audit_alembic.events')
            self.assertEqual(record.audit_table, DEFAULT_TABLE_NAME)
            for role in ('alembic_version', 'prev_alembic_version',
                         'operation_type', 'operation_direction',
                         'user_version', 'run_id', 'status', 'db_user',
                         'duration_ms', 'schema_hash'):
                if role in record.audit:
                    self.assertEqual(record.audit[role], row[role], role)
            json.dumps(record.audit)  # JSON-safe as it is
            self.assertTrue(record.audit['changed_at'].endswith('Z'))
            self.assertNotIn('id', record.audit)
            for role, value in record.audit.items():
                if value is not None:
                    self.assertEqual(
                        getattr(record, 'audit_alembic.' + role), value)


class EventsTest(EventsTestBase):

    def test_one_event_per_row_after_its_commit(self):
        env = self.scratch_env(LINEAR, auditor=details_auditor())
        seen_elsewhere = []

        def check(record):
            # Emitted once committed: another connection sees the row.
            with self.engine.connect() as other:
                seen_elsewhere.append(other.scalar(text(
                    'SELECT count(*) FROM %s WHERE row_hash = :h'
                    % DEFAULT_TABLE_NAME), {'h': record.audit['row_hash']}))
        records = self.capture(check)
        env.run('upgrade', 'head')
        env.run('downgrade', 'A')
        env.run('stamp', 'C')
        rows = env.history()
        self.assertEventsAreRows(records, rows)
        self.assertEqual(seen_elsewhere, [1] * len(rows))
        steps = [r for r in records if r.audit['status'] == 'ok']
        self.assertEqual(
            [(r.audit['prev_alembic_version'], r.audit['alembic_version'])
             for r in steps],
            [('', 'A'), ('A', 'B'), ('B', 'C'), ('C', 'B'), ('B', 'A'),
             ('A', 'C')])
        first = steps[0]
        self.assertEqual(first.getMessage(), (
            'upgrade <base> -> A ok (run %s, %s ms) in alembic_version_history'
            % (first.audit['run_id'][:8], first.audit['duration_ms'])))
        self.assertRegex(steps[3].getMessage(), r'^downgrade C -> B ok ')
        self.assertRegex(steps[5].getMessage(), r'^stamp A -> C ok ')

    def test_nothing_built_when_nobody_listens(self):
        env = self.scratch_env(LINEAR, auditor=details_auditor())
        logger = logging.getLogger(events.EVENTS)
        self.assertFalse(logger.isEnabledFor(logging.INFO))
        env.run('upgrade', 'head')
        self.assertEqual(dict(env.config.attributes['auditor']
                              ._events._pending), {})

    def test_failing_step(self):
        env = self.scratch_env([Rev('A'), Rev('B', 'A'),
                                Rev('C', 'B', upgrade=RAISE_ERROR,
                                    downgrade='pass')],
                               auditor=details_auditor())
        records = self.capture()
        with self.assertRaises(RuntimeError) as raised:
            env.run('upgrade', 'head')
        self.assertIs(raised.exception, ERROR)
        rows = env.history()
        self.assertEventsAreRows(records, rows)
        statuses = [r.audit['status'] for r in records]
        self.assertEqual(statuses[-1], 'failed')
        if self.dialect_name == 'postgresql':
            # One transaction for the run: the ok rows were rolled back.
            self.assertNotIn('ok', statuses)
        else:
            self.assertEqual(statuses.count('ok'), 2)
        self.assertRegex(records[-1].getMessage(), r'^upgrade %s -> C failed '
                         r'\(run ' % ('<base>' if self.dialect_name ==
                                      'postgresql' else 'B'))
        self.assertEqual(records[-1].audit['error'],
                         'RuntimeError: the original error')

    def test_transaction_per_migration(self):
        env = self.scratch_env([Rev('A'), Rev('B', 'A'),
                                Rev('C', 'B', upgrade=RAISE_ERROR,
                                    downgrade='pass')],
                               auditor=details_auditor(),
                               transaction_per_migration=True)
        records = self.capture()
        with self.assertRaises(RuntimeError):
            env.run('upgrade', 'head')
        rows = env.history()
        self.assertEventsAreRows(records, rows)
        self.assertEqual([r.audit['status'] for r in records
                          if r.audit['status'] in ('ok', 'failed')],
                         ['ok', 'ok', 'failed'])
        env.run('downgrade', 'base')
        self.assertEventsAreRows(records, env.history())

    def test_failed_commit(self):
        if self.dialect_name != 'postgresql':
            self.skipTest('a constraint checked at COMMIT: PostgreSQL')
        env = self.scratch_env([Rev('A'), Rev('B', 'A', upgrade=(
            'op.create_table("ev_deferred", sa.Column("x", sa.Integer), '
            'sa.UniqueConstraint("x", deferrable=True, '
            'initially="DEFERRED")); '
            'op.execute("INSERT INTO ev_deferred VALUES (1), (1)")'),
            downgrade='pass')], auditor=details_auditor())
        env.own('ev_deferred')
        records = self.capture()
        with self.assertRaises(Exception):
            env.run('upgrade', 'head')
        self.assertEqual(env.heads(), set())
        # The rows held to the end were written, then their COMMIT failed.
        self.assertNotIn('ok', [r.audit['status'] for r in records])
        rows = env.history() if records else []
        self.assertEventsAreRows(records, rows)

    def test_without_details(self):
        env = self.scratch_env(LINEAR, auditor=Auditor.create('2.0'))
        records = self.capture()
        env.run('upgrade', 'head')
        self.assertEqual([r.getMessage() for r in records], [
            'upgrade <base> -> A in alembic_version_history',
            'upgrade A -> B in alembic_version_history',
            'upgrade B -> C in alembic_version_history'])
        self.assertEqual(set(records[0].audit), {
            'alembic_version', 'prev_alembic_version', 'operation_type',
            'operation_direction', 'user_version', 'changed_at'})


class CallersTransactionEventsTest(EventsTestBase):

    def prepared(self):
        """An environment at A (its events gone), the history table there
        (so that no DDL comes later)."""
        env = self.scratch_env(QUIET, auditor=details_auditor())
        env.run('upgrade', 'A')
        return env, self.capture()

    def test_committed_by_the_caller(self):
        env, records = self.prepared()
        before = len(env.history())
        with self.engine.connect() as connection:
            transaction = connection.begin()
            env.run('upgrade', 'head', connection=connection)
            self.assertEqual(records, [])
            transaction.commit()
        rows = env.history()[before:]
        self.assertEventsAreRows(records, rows)
        self.assertEqual([r.audit['alembic_version'] for r in records
                          if r.audit['status'] == 'ok'], ['B', 'C'])

    def test_rolled_back_by_the_caller(self):
        env, records = self.prepared()
        before = env.history()
        with self.engine.connect() as connection:
            transaction = connection.begin()
            env.run('upgrade', 'head', connection=connection)
            transaction.rollback()
        self.assertEqual(env.history(), before)
        self.assertEqual(records, [])

    def test_savepoint_rolled_back(self):
        env, records = self.prepared()
        before = env.history()
        with self.engine.connect() as connection:
            transaction = connection.begin()
            savepoint = connection.begin_nested()
            env.run('upgrade', 'head', connection=connection)
            savepoint.rollback()
            transaction.commit()
        self.assertEqual(env.history(), before)
        self.assertEqual(records, [])

    def test_savepoint_released(self):
        env, records = self.prepared()
        before = len(env.history())
        with self.engine.connect() as connection:
            transaction = connection.begin()
            with connection.begin_nested():
                env.run('upgrade', 'B', connection=connection)
            savepoint = connection.begin_nested()
            env.run('upgrade', 'C', connection=connection)
            savepoint.rollback()
            self.assertEqual(records, [])
            transaction.commit()
        rows = env.history()[before:]
        self.assertEventsAreRows(records, rows)
        self.assertEqual([r.audit['alembic_version'] for r in records
                          if r.audit['status'] == 'ok'], ['B'])

    def test_failed_attempt_in_the_callers_transaction(self):
        env = self.scratch_env(FAILING_B, auditor=details_auditor())
        records = self.capture()
        with self.engine.connect() as connection:
            transaction = connection.begin()
            with self.assertRaises(RuntimeError):
                env.run('upgrade', 'head', connection=connection)
            self.assertEqual(records, [])
            transaction.commit()
        self.assertEventsAreRows(records, env.history())
        self.assertEqual(records[-1].audit['status'], 'failed')


class JsonLinesTest(EventsTestBase):
    """The real ``alembic`` command, its alembic.ini sending the events to
    a file as JSON lines (``fileConfig`` in the shipped env.py)."""

    INI = '''\
[loggers]
keys = root,audit_events

[handlers]
keys = console,audit_json

[formatters]
keys = generic,json

[logger_root]
level = WARNING
handlers = console

[logger_audit_events]
level = INFO
handlers = audit_json
qualname = audit_alembic.events
propagate = 0

[handler_console]
class = StreamHandler
args = (sys.stderr,)
formatter = generic

[handler_audit_json]
class = FileHandler
args = ('audit-events.jsonl',)
formatter = json

[formatter_generic]
format = %(levelname)s [%(name)s] %(message)s

[formatter_json]
class = audit_alembic.events.JsonFormatter
'''

    def test_json_lines(self):
        env = self.process_scratch_env(LINEAR, auditor=details_auditor())
        with open(env.ini_path) as f:
            ini = f.read()
        with open(env.ini_path, 'w') as f:
            f.write(ini[:ini.index('[loggers]')] + self.INI)
        result = env.alembic('upgrade', 'head')
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotIn('audit_alembic.events', result.stderr)
        with open(os.path.join(env.directory, 'audit-events.jsonl')) as f:
            lines = [json.loads(line) for line in f]
        rows = env.history()
        self.assertEqual([line['audit']['row_hash'] for line in lines],
                         hashes(rows))
        first = lines[0]
        self.assertEqual(set(first), {'timestamp', 'level', 'logger',
                                      'message', 'table', 'audit'})
        self.assertEqual((first['level'], first['logger'], first['table']),
                         ('INFO', 'audit_alembic.events', DEFAULT_TABLE_NAME))
        self.assertRegex(first['timestamp'],
                         r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$')
        self.assertRegex(first['message'],
                         r'^upgrade <base> -> A ok \(run [0-9a-f]{8}, '
                         r'\d+ ms\) in alembic_version_history$')
        self.assertEqual(first['audit']['alembic_version'], 'A')


def _otel():
    """The OpenTelemetry SDK's handler, provider and in-memory exporter
    (their names vary with its version), or skip."""
    try:
        from opentelemetry.sdk._logs import LoggerProvider
        from opentelemetry.sdk._logs import LoggingHandler
        from opentelemetry.sdk._logs import export
    except ImportError:
        raise unittest.SkipTest('opentelemetry-sdk is not installed '
                                '(pip install audit-alembic[otel])')
    exporter_class = getattr(export, 'InMemoryLogRecordExporter', None) or \
        getattr(export, 'InMemoryLogExporter')
    return LoggerProvider, LoggingHandler, export, exporter_class


class OpenTelemetryTest(EventsTestBase):

    def test_attributes(self):
        LoggerProvider, LoggingHandler, export, exporter_class = _otel()
        with warnings.catch_warnings():
            # The SDK's logs API is still marked as moving.
            warnings.simplefilter('ignore', DeprecationWarning)
            exporter = exporter_class()
            provider = LoggerProvider()
            provider.add_log_record_processor(
                export.SimpleLogRecordProcessor(exporter))
            handler = LoggingHandler(level=logging.INFO,
                                     logger_provider=provider)
        self.addCleanup(provider.shutdown)
        stack = contextlib.ExitStack()
        stack.enter_context(listening(handler))
        self.addCleanup(stack.close)
        env = self.scratch_env(FAILING_B, auditor=details_auditor())
        env.run('upgrade', 'A')
        with self.assertRaises(RuntimeError):
            env.run('upgrade', 'head')
        exported = [getattr(log, 'log_record', log)
                    for log in exporter.get_finished_logs()]
        rows = env.history()
        attributes = [dict(log.attributes) for log in exported]
        self.assertEqual([a['audit_alembic.row_hash'] for a in attributes],
                         hashes(rows))
        ok = [a for a in attributes if a['audit_alembic.status'] == 'ok']
        failed = attributes[-1]
        self.assertEqual(
            (ok[0]['audit_alembic.alembic_version'],
             ok[0]['audit_alembic.operation_direction'],
             ok[0]['audit_alembic.run_id']),
            ('A', 'up', rows[0]['run_id']))
        self.assertEqual(
            (failed['audit_alembic.status'],
             failed['audit_alembic.alembic_version'],
             failed['audit_alembic.prev_alembic_version'],
             failed['audit_alembic.error']),
            ('failed', 'B', 'A', 'RuntimeError: the original error'))
        self.assertTrue(failed['audit_alembic.changed_at'].endswith('Z'))
        self.assertEqual(failed['audit_table'], DEFAULT_TABLE_NAME)
        self.assertEqual(exported[-1].body, 'upgrade A -> B failed (run %s, '
                         '%s ms) in alembic_version_history' % (
                             failed['audit_alembic.run_id'][:8],
                             failed['audit_alembic.duration_ms']))
