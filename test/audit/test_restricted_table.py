"""A history table the deploying role cannot alter: one message naming
every statement its owner must run, and never a deploy stopped for want
of an index.

A view stands in for a table owned by another role: columns cannot be
added to it, nor indexes created on it, yet rows can be inserted through
it (PostgreSQL, MariaDB).
"""
from sqlalchemy import MetaData
from sqlalchemy import text

from audit_alembic import Auditor
from audit_alembic.values import DEFAULT_TABLE_NAME
from test.audit.graphs import LINEAR
from test.audit.test_details import DetailsTestBase

BACKING = 'aa_test_backing_history'
OLD_COLUMNS = ('id INTEGER PRIMARY KEY, alembic_version VARCHAR(255), '
               'prev_alembic_version VARCHAR(255), '
               'operation_type VARCHAR(32), operation_direction VARCHAR(32), '
               'user_version VARCHAR(255), changed_at TIMESTAMP NULL')


class RestrictedTableTest(DetailsTestBase):

    def history_view(self, env, create_backing):
        """Make the history table a view of table BACKING, which
        ``create_backing(connection)`` creates."""
        engine = env.engine
        with engine.begin() as connection:
            create_backing(connection)
            connection.execute(text('CREATE VIEW %s AS SELECT * FROM %s'
                                    % (DEFAULT_TABLE_NAME, BACKING)))

        def drop():
            with engine.begin() as connection:
                connection.execute(text('DROP VIEW IF EXISTS %s'
                                        % DEFAULT_TABLE_NAME))
                connection.execute(text('DROP TABLE IF EXISTS %s' % BACKING))
        self.addCleanup(drop)

    def test_message_names_columns_and_indexes(self):
        env = self.process_env(LINEAR)
        self.history_view(env, lambda connection: connection.execute(
            text('CREATE TABLE %s (%s)' % (BACKING, OLD_COLUMNS))))
        result = env.alembic('upgrade', 'head')
        output = result.stdout + result.stderr
        self.assertEqual(result.returncode, 255, output)
        message, = output.strip().splitlines()
        instruction = message.split('have its owner run: ', 1)[1]
        statements = [s.strip() for s in instruction.split(';') if s.strip()]
        self.assertEqual(
            [s.split(' ', 2)[:2] for s in statements],
            [["ALTER", "TABLE"]] * 11 + [['CREATE', 'INDEX']] * 2,
            message)
        self.assertTrue(message.endswith(';'), message)
        self.assertEqual(env.heads(), set())

    def test_indexes_that_cannot_be_created_only_warn(self):
        if self.dialect_name == 'sqlite':
            self.skipTest('rows cannot be inserted through a SQLite view')
        env = self.details_env(LINEAR)
        complete = Auditor.create('1.0', details=True).table.to_metadata(
            MetaData(), name=BACKING)
        complete.indexes.clear()
        self.history_view(env, complete.create)
        with self.assertLogs('audit_alembic.auditor', 'WARNING') as logs:
            env.run('upgrade', 'head')
        self.assertEqual(env.heads(), {'C'})
        self.assertEqual([r['alembic_version'] for r in env.history(BACKING)],
                         ['A', 'B', 'C'])
        warning, = logs.output
        self.assertIn('lacks index(es) ix_aa_', warning)
        instruction = warning.split('have its owner run: ', 1)[1]
        self.assertEqual(instruction.count('CREATE INDEX ix_aa_'), 2,
                         warning)
        self.assertNotIn('ALTER TABLE', warning)
