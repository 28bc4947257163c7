"""Rows follow their step's (sub)transaction; bad rows write nothing."""
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column
from sqlalchemy import String
from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy import inspect
from sqlalchemy import text

from audit_alembic import Auditor
from audit_alembic.exc import AuditRuntimeError
from audit_alembic.testing.fixtures import Rev
from audit_alembic.testing.fixtures import ScratchEnvironment
from audit_alembic.testing.fixtures import TestBase
from test.audit.graphs import LINEAR

FAILING = LINEAR + [Rev('D', 'C', upgrade='raise RuntimeError("D")')]
HISTORY = 'alembic_version_history'


def sqlite_with_savepoints(url):
    """An engine on SQLite ``url`` where SAVEPOINT works: SQLAlchemy's
    documented recipe for pysqlite (its own BEGIN, pysqlite's off)."""
    engine = create_engine(url)

    @event.listens_for(engine, 'connect')
    def no_pysqlite_begin(dbapi_connection, connection_record):
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, 'begin')
    def begin(connection):
        connection.exec_driver_sql('BEGIN')
    return engine


class SavepointTest(TestBase):
    """Alembic run by a program on its own connection, in a SAVEPOINT."""

    __backend__ = True

    def savepoint_env(self, revisions=FAILING):
        if self.dialect_name == 'sqlite':
            engine = sqlite_with_savepoints(self.file_database_url())
            self.addCleanup(engine.dispose)
            env = ScratchEnvironment(engine, revisions)
            self.addCleanup(env.close)
        else:
            with self.engine.connect() as connection:
                if not MigrationContext.configure(
                        connection).impl.transactional_ddl:
                    self.skipTest('DDL on %s ends any savepoint' %
                                  self.dialect_name)
            env = self.scratch_env(revisions)
        env.own('app_work')
        return env

    def upgrade_in_rolled_back_savepoint(self, env):
        """Upgrade to head in a savepoint, fail at D, roll back the
        savepoint and commit the program's own work around it."""
        with env.engine.connect() as connection:
            connection.execute(text('CREATE TABLE app_work (id INTEGER)'))
            savepoint = connection.begin_nested()
            with self.assertRaisesRegex(RuntimeError, 'D'):
                env.run('upgrade', 'head', connection=connection)
            savepoint.rollback()
            connection.execute(text('INSERT INTO app_work VALUES (1)'))
            connection.commit()
        with env.engine.connect() as connection:
            self.assertEqual(connection.execute(
                text('SELECT id FROM app_work')).scalars().all(), [1])

    def test_rolled_back_savepoint_without_history_table(self):
        env = self.savepoint_env()
        self.upgrade_in_rolled_back_savepoint(env)
        self.assertEqual(env.heads(), set())
        self.assertFalse(inspect(env.engine).has_table(HISTORY))

    def test_rolled_back_savepoint_with_history_table(self):
        env = self.savepoint_env()
        env.run('upgrade', 'A')
        self.upgrade_in_rolled_back_savepoint(env)
        self.assertEqual(env.heads(), {'A'})
        self.assertEqual([row['alembic_version'] for row in env.history()],
                         ['A'])

    def test_released_savepoint_keeps_its_rows(self):
        env = self.savepoint_env(LINEAR)
        with env.engine.connect() as connection:
            with connection.begin_nested():
                env.run('upgrade', 'B', connection=connection)
            with connection.begin_nested():
                env.run('upgrade', 'C', connection=connection)
            connection.commit()
        self.assertEqual(env.heads(), {'C'})
        self.assertEqual([row['alembic_version'] for row in env.history()],
                         ['A', 'B', 'C'])

    def test_rows_before_a_rolled_back_savepoint_stay(self):
        env = self.savepoint_env()
        with env.engine.connect() as connection:
            env.run('upgrade', 'B', connection=connection)
            savepoint = connection.begin_nested()
            with self.assertRaisesRegex(RuntimeError, 'D'):
                env.run('upgrade', 'head', connection=connection)
            savepoint.rollback()
            connection.commit()
        self.assertEqual(env.heads(), {'B'})
        self.assertEqual([row['alembic_version'] for row in env.history()],
                         ['A', 'B'])


class HeldRowsTest(TestBase):
    __backend__ = True

    def test_rows_with_different_keys_keep_every_value(self):
        standard = Auditor.create('v', user_version_nullable=True)

        def make_row(step, **kw):
            row = standard.make_row(step=step, **kw)
            revision, = step.destination_revision_ids
            if revision == 'A':
                del row['user_version']
            else:
                row['user_version'] = 'v-' + revision
            return row
        env = self.scratch_env(LINEAR,
                               auditor=Auditor(standard.table, make_row))
        env.run('upgrade', 'head')
        self.assertEqual(
            [(row['alembic_version'], row['user_version'])
             for row in env.history()],
            [('A', None), ('B', 'v-B'), ('C', 'v-C')])


class FailedRecordingTest(TestBase):
    """A step whose row cannot be written is not applied either."""

    __backend__ = True

    def test_first_step_fails_to_record_without_history_table(self):
        # NOT NULL rejects the row in the database itself, after the
        # table was created: on MySQL/MariaDB that creation must not have
        # committed step A's alembic_version update.
        auditor = Auditor.create('v', extra_columns=[
            (Column('ticket', String(20), nullable=False), None)])
        env = self.scratch_env(LINEAR, auditor=auditor)
        with self.assertRaises(Exception) as caught:
            env.run('upgrade', 'head')
        self.assertIn('ticket', str(caught.exception))
        self.assertEqual(env.heads(), set())
        if inspect(self.engine).has_table(HISTORY):
            self.assertEqual(env.history(), [])


class RejectedRowTest(TestBase):
    """Rows that cannot be stored as given are refused before any write."""

    __backend__ = True

    def assert_nothing_written(self, env):
        self.assertEqual(env.heads(), set())
        self.assertFalse(inspect(self.engine).has_table(HISTORY))

    def test_user_version_too_long(self):
        env = self.scratch_env(LINEAR, user_version='x' * 300)
        with self.assertRaisesRegex(
                AuditRuntimeError,
                r'column user_version of table alembic_version_history is '
                r'300 characters long; the column holds at most 255'):
            env.run('upgrade', 'head')
        self.assert_nothing_written(env)

    def test_extra_column_value_too_long(self):
        auditor = Auditor.create('v', extra_columns=[
            (Column('ticket', String(8)), 'JIRA-123456')])
        env = self.scratch_env(LINEAR, auditor=auditor)
        with self.assertRaisesRegex(
                AuditRuntimeError, r'column ticket .* is 11 characters long; '
                r'the column holds at most 8'):
            env.run('upgrade', 'head')
        self.assert_nothing_written(env)

    def test_value_that_fits_exactly(self):
        env = self.scratch_env(LINEAR, user_version='x' * 255)
        env.run('upgrade', 'A')
        self.assertEqual([row['user_version'] for row in env.history()],
                         ['x' * 255])

    def unknown_keys_auditor(self):
        table = Auditor.create('v').table
        return Auditor(table, {'alembic_version': 'A', 'operation_type': 'm',
                               'operation_direction': 'up',
                               'ticket': 'T-1', 'author': 'me'})

    def test_keys_that_are_not_columns(self):
        env = self.scratch_env(LINEAR, auditor=self.unknown_keys_auditor())
        with self.assertRaisesRegex(
                AuditRuntimeError, r'make_row gave values for author, ticket, '
                r'not columns of table alembic_version_history'):
            env.run('upgrade', 'head')
        self.assert_nothing_written(env)

    def test_keys_that_are_not_columns_offline(self):
        env = self.scratch_env(LINEAR, auditor=self.unknown_keys_auditor())
        with self.assertRaisesRegex(AuditRuntimeError, 'author, ticket'):
            env.sql('upgrade', 'head')

    def test_too_long_offline(self):
        env = self.scratch_env(LINEAR, user_version='x' * 256)
        with self.assertRaisesRegex(AuditRuntimeError, 'user_version'):
            env.sql('upgrade', 'head')


class ConcurrentCreationTest(TestBase):
    """Deploys racing to create the history table."""

    __backend__ = True

    def test_table_created_meanwhile_by_another_deploy(self):
        # Another deploy creates the table between our check and our
        # CREATE TABLE, as happens when several processes upgrade at once.
        with self.engine.connect() as connection:
            if MigrationContext.configure(connection).impl.transactional_ddl \
                    or self.dialect_name == 'sqlite':
                self.skipTest('%s creates the table in the step\'s own '
                              'transaction' % self.dialect_name)
        auditor = Auditor.create('v')
        env = self.scratch_env(LINEAR, auditor=auditor)
        raced = []

        def other_deploy(conn, cursor, statement, *args):
            if statement.lstrip().startswith('CREATE TABLE %s' % HISTORY) \
                    and not raced:
                raced.append(statement)
                with self.engine.connect() as other:
                    other.exec_driver_sql(statement)
                    other.commit()
        event.listen(self.engine, 'before_cursor_execute', other_deploy)
        self.addCleanup(event.remove, self.engine, 'before_cursor_execute',
                        other_deploy)
        env.run('upgrade', 'head')
        self.assertEqual(len(raced), 1)
        self.assertEqual([row['alembic_version'] for row in env.history()],
                         ['A', 'B', 'C'])
