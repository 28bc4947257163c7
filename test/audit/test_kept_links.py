"""The link a writer keeps after the rows it wrote, for the next rows of a
migration run: never after rows a rollback undid."""
import datetime

from alembic.runtime.migration import MigrationContext
from sqlalchemy import select

from audit_alembic import Auditor
from audit_alembic.hashing import chain_hash
from audit_alembic.testing.fixtures import TestBase


class Run:
    """Stands for the migration run the rows record."""


class KeptLinkTest(TestBase):
    __backend__ = True

    def row(self, revision):
        return {'alembic_version': revision, 'prev_alembic_version': '',
                'operation_type': 'migration', 'operation_direction': 'up',
                'user_version': '1.0', 'status': 'ok',
                'changed_at': datetime.datetime(2026, 1, 1, 12, 0, 0)}

    def test_no_link_after_rolled_back_rows(self):
        auditor = Auditor.create('1.0', details=True)
        table = auditor.table
        # The history table and its companion of schema snapshots.
        self.addCleanup(table.metadata.drop_all, self.engine)
        writer, run = auditor._writer, Run()
        with self.engine.connect() as connection:
            writer.ready(MigrationContext.configure(connection))
            connection.commit()
            for revision, end in (('A', connection.commit),
                                  ('B', connection.rollback),
                                  ('C', connection.commit)):
                connection.begin()
                writer.write(connection, [self.row(revision)], run=run)
                end()
            rows = connection.execute(
                select(table).order_by(table.c.id)).mappings().all()
        self.assertEqual([r['alembic_version'] for r in rows], ['A', 'C'])
        first, last = rows
        # C links after A, not after the B that was rolled back.
        self.assertEqual(last['row_hash'], chain_hash(
            first['row_hash'], [last[name] for name in auditor._chain.names]))

    def test_no_link_kept_from_another_run(self):
        # Between two runs, the same connection empties the table: the
        # next run reads the chain's tail again.
        auditor = Auditor.create('1.0', details=True)
        table = auditor.table
        # The history table and its companion of schema snapshots.
        self.addCleanup(table.metadata.drop_all, self.engine)
        writer = auditor._writer
        with self.engine.connect() as connection:
            writer.ready(MigrationContext.configure(connection))
            connection.commit()
            writer.write(connection, [self.row('A')], run=Run())
            connection.commit()
            connection.execute(table.delete())
            connection.commit()
            writer.write(connection, [self.row('B')], run=Run())
            connection.commit()
            row, = connection.execute(select(table)).mappings().all()
        self.assertEqual(row['row_hash'], chain_hash(
            None, [row[name] for name in auditor._chain.names]))
