"""What the database holds of the history table: the one catalog query
of PostgreSQL says what the Inspector says."""
from sqlalchemy import MetaData
from sqlalchemy import Table
from sqlalchemy import text

from audit_alembic import Auditor
from audit_alembic import catalog
from audit_alembic.testing.fixtures import TestBase


class CatalogTest(TestBase):
    __backend__ = True

    def test_one_query_says_what_the_inspector_says(self):
        auditor = Auditor.create('1.0', details=True)
        companion = auditor.schema_watch.snapshots
        env = self.scratch_env(auditor=auditor)
        with self.engine.begin() as connection:
            nothing = catalog.read(connection, auditor.table, [companion])
            if self.dialect_name != 'postgresql':
                self.assertIsNone(nothing)
                self.skipTest('one query on PostgreSQL only')
            self.assertEqual(catalog.lacking(auditor.table, nothing),
                             catalog.missing(connection, auditor.table))
            self.assertEqual(nothing.tables, set())
            # A table lacking a column and an index, no companion.
            older = Table(auditor.table.name, MetaData(), *[
                column._copy() for column in auditor.table.columns
                if column.name != 'schema_hash'])
            older.create(connection)
            found = catalog.read(connection, auditor.table, [companion])
            self.assertEqual(found.tables, {auditor.table.name})
            columns, indexes = catalog.lacking(auditor.table, found)
            self.assertEqual(
                ([c.name for c in columns], sorted(i.name for i in indexes)),
                ([c.name for c in catalog.missing(
                    connection, auditor.table)[0]],
                 sorted(i.name for i in catalog.missing(
                     connection, auditor.table)[1])))
            self.assertEqual([c.name for c in columns], ['schema_hash'])
            self.assertEqual(len(indexes), 2)
            connection.execute(text('DROP TABLE %s' % auditor.table.name))
        env.close()
