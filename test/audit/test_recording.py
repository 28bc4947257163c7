"""Online recording: one row per step, in the step's transaction."""
import datetime

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy import inspect

from audit_alembic import Auditor
from audit_alembic import CommonColumnValues
from audit_alembic.testing.fixtures import Rev
from audit_alembic.testing.fixtures import ScratchEnvironment
from audit_alembic.testing.fixtures import TestBase
from test.audit.graphs import LINEAR


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def steps(rows, *columns):
    columns = columns or ('prev_alembic_version', 'alembic_version',
                          'operation_type', 'operation_direction')
    return [tuple(row[c] for c in columns) for row in rows]


class RecordingTest(TestBase):
    __backend__ = True

    def test_upgrade_downgrade_stamp(self):
        env = self.scratch_env(LINEAR, user_version='app-1.2')
        env.run('upgrade', 'head')
        env.run('downgrade', '-1')
        env.run('stamp', 'A')
        rows = env.history()
        self.assertEqual(steps(rows), [
            ('', 'A', 'migration', 'up'),
            ('A', 'B', 'migration', 'up'),
            ('B', 'C', 'migration', 'up'),
            ('C', 'B', 'migration', 'down'),
            ('B', 'A', 'stamp', 'down'),
        ])
        self.assertEqual({row['user_version'] for row in rows}, {'app-1.2'})
        self.assertEqual([row['id'] for row in rows],
                         sorted(row['id'] for row in rows))

    def test_table_definition(self):
        env = self.scratch_env(LINEAR)
        env.run('upgrade', 'A')
        columns = {c['name']: c for c in inspect(self.engine).get_columns(
            'alembic_version_history')}
        self.assertEqual(set(columns), {
            'id', 'alembic_version', 'prev_alembic_version', 'operation_type',
            'operation_direction', 'user_version', 'changed_at'})
        self.assertFalse(columns['operation_type']['nullable'])
        self.assertFalse(columns['operation_direction']['nullable'])
        self.assertEqual(inspect(self.engine).get_pk_constraint(
            'alembic_version_history')['constrained_columns'], ['id'])

    def test_change_time_is_utc_with_microseconds(self):
        env = self.scratch_env(LINEAR)
        before = utcnow()
        env.run('upgrade', 'head')
        after = utcnow()
        for row in env.history():
            # A backend that dropped the fraction of a second would store
            # a time before `before` (or after `after`, if it rounded).
            self.assertTrue(before <= row['changed_at'] <= after,
                            (before, row['changed_at'], after))

    def test_custom_names_and_extra_columns(self):
        auditor = Auditor.create(
            lambda step, **_: 'v-' + '-'.join(step.destination_revision_ids),
            table_name='Audit Log', user_version_column_name='select',
            direction_column_name='dir', operation_column_name='kind',
            alembic_version_column_name='to',
            prev_alembic_version_column_name='from',
            change_time_column_name='when', alembic_version_separator='+',
            extra_columns=[
                (Column('host', String(50)), 'build-7'),
                (Column('head_count', Integer),
                 lambda heads, **_: len(heads)),
            ])
        env = self.scratch_env(LINEAR, auditor=auditor)
        env.run('upgrade', 'B')
        rows = env.history('Audit Log')
        self.assertEqual(
            steps(rows, 'from', 'to', 'kind', 'dir', 'select', 'host',
                  'head_count'),
            [('', 'A', 'migration', 'up', 'v-A', 'build-7', 1),
             ('A', 'B', 'migration', 'up', 'v-B', 'build-7', 1)])
        self.assertIsInstance(rows[0]['when'], datetime.datetime)

    def test_values_travel_as_parameters(self):
        tricky = "O'Brien\"; DROP TABLE alembic_version; --"
        env = self.scratch_env(LINEAR, auditor=Auditor.create(tricky))
        env.run('upgrade', 'head')
        self.assertEqual({row['user_version'] for row in env.history()},
                         {tricky})
        self.assertEqual(env.heads(), {'C'})

    def test_plain_auditor_with_custom_make_row(self):
        auditor = Auditor.create('x', table_name='custom_history')
        plain = Auditor(auditor.table, lambda step, **_: {
            'alembic_version': 'to:' + ','.join(step.destination_revision_ids),
            'prev_alembic_version': '',
            'operation_type': CommonColumnValues.operation_type(step=step),
            'operation_direction': 'up',
            'user_version': lambda **_: 'callable values are called',
        })
        env = self.scratch_env(LINEAR, auditor=plain)
        env.run('upgrade', 'A')
        self.assertEqual(
            steps(env.history('custom_history'), 'alembic_version',
                  'operation_type', 'user_version'),
            [('to:A', 'migration', 'callable values are called')])

    def test_user_version_callable_gets_the_hook_arguments(self):
        seen = []

        def user_version(**kw):
            seen.append(sorted(kw))
            return 'v'
        env = self.scratch_env(LINEAR, auditor=Auditor.create(user_version))
        env.run('upgrade', 'A')
        self.assertEqual(seen, [['ctx', 'heads', 'run_args', 'step']])

    def test_logs_one_debug_line_per_step(self):
        env = self.scratch_env(LINEAR)
        with self.assertLogs('audit_alembic.auditor', 'DEBUG') as logs:
            env.run('upgrade', 'head')
        self.assertEqual(len(logs.records), 3)
        self.assertIn("('B',) -> ('C',)", logs.output[-1])


class TwoDatabasesTest(TestBase):
    def test_one_auditor_records_into_each_database(self):
        auditor = Auditor.create('v')
        other_engine = create_engine('sqlite://')
        self.addCleanup(other_engine.dispose)
        first = self.scratch_env(LINEAR, auditor=auditor)
        second = ScratchEnvironment(other_engine, LINEAR, auditor=auditor)
        self.addCleanup(second.close)
        first.run('upgrade', 'B')
        second.run('upgrade', 'head')
        first.run('upgrade', 'head')
        self.assertEqual(len(first.history()), 3)
        self.assertEqual(len(second.history()), 3)


class TransactionTest(TestBase):
    __backend__ = True

    def test_failing_hook_rolls_back_the_version_update(self):
        def make_row(step, **_):
            if step.destination_revision_ids == ('B',):
                raise RuntimeError('no row for B')
            return {'alembic_version': 'A', 'prev_alembic_version': '',
                    'operation_type': 'migration', 'operation_direction': 'up'}
        auditor = Auditor(Auditor.create('v').table, make_row)
        env = self.scratch_env(LINEAR, auditor=auditor,
                               transaction_per_migration=True)
        with self.assertRaisesRegex(RuntimeError, 'no row for B'):
            env.run('upgrade', 'head')
        self.assertEqual(env.heads(), {'A'})
        self.assertEqual(steps(env.history(), 'alembic_version'), [('A',)])

    def transactional_ddl(self):
        with self.engine.connect() as connection:
            return MigrationContext.configure(
                connection).impl.transactional_ddl

    def test_failed_step_leaves_no_row_with_transactional_ddl(self):
        if not self.transactional_ddl():
            self.skipTest('%s has no transactional DDL' % self.dialect_name)
        revisions = LINEAR + [Rev('D', 'C', upgrade='raise RuntimeError("D")')]
        # The same Auditor for both runs: the table it created in the
        # rolled-back run is gone and must be created again.
        env = self.scratch_env(revisions, auditor=Auditor.create('v'))
        with self.assertRaisesRegex(RuntimeError, 'D'):
            env.run('upgrade', 'head')
        self.assertFalse(inspect(self.engine).has_table('scratch_a'))
        self.assertFalse(
            inspect(self.engine).has_table('alembic_version_history'))
        env.run('upgrade', 'C')
        self.assertEqual(len(env.history()), 3)

    def test_one_insert_per_transaction(self):
        inserts = []

        def count(conn, cursor, statement, *args):
            if statement.startswith('INSERT INTO alembic_version_history'):
                inserts.append(statement)
        event.listen(self.engine, 'before_cursor_execute', count)
        self.addCleanup(event.remove, self.engine, 'before_cursor_execute',
                        count)
        env = self.scratch_env(LINEAR)
        env.run('upgrade', 'head')
        self.assertEqual(len(env.history()), 3)
        # One transaction for all steps where DDL is transactional, one
        # per step elsewhere (Alembic's choice).
        self.assertEqual(len(inserts), 1 if self.transactional_ddl() else 3)

    def test_rolled_back_rows_are_not_written_later(self):
        revisions = LINEAR + [Rev('D', 'C', upgrade='raise RuntimeError("D")')]
        env = self.scratch_env(revisions, auditor=Auditor.create('v'))
        with self.engine.connect() as connection:
            with self.assertRaisesRegex(RuntimeError, 'D'):
                env.run('upgrade', 'head', connection=connection)
            connection.rollback()
            env.run('upgrade', 'C', connection=connection)
            connection.commit()
        self.assertEqual(
            [row['alembic_version'] for row in env.history()],
            ['A', 'B', 'C'])

    def test_committed_steps_keep_their_rows(self):
        revisions = LINEAR + [Rev('D', 'C', upgrade='raise RuntimeError("D")')]
        env = self.scratch_env(revisions, transaction_per_migration=True)
        with self.assertRaisesRegex(RuntimeError, 'D'):
            env.run('upgrade', 'head')
        self.assertEqual(env.heads(), {'C'})
        self.assertEqual(steps(env.history(), 'alembic_version'),
                         [('A',), ('B',), ('C',)])
