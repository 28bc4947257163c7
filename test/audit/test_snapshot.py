""":mod:`audit_alembic.snapshot` and :mod:`audit_alembic.schemadiff`:
reflecting, storing and comparing schema snapshots, on every target."""
import json
import secrets
import unittest

from sqlalchemy import Column
from sqlalchemy import ForeignKeyConstraint
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import MetaData
from sqlalchemy import Numeric
from sqlalchemy import PrimaryKeyConstraint
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import UniqueConstraint
from sqlalchemy import inspect
from sqlalchemy import text

from audit_alembic import schemadiff
from audit_alembic import snapshot
from audit_alembic.schemadiff import Change
from audit_alembic.testing.fixtures import TestBase

CUSTOMER, INVOICE, EXTRA, PAIR = (
    'snap_customer', 'snap_invoice', 'snap_extra', 'snap_pair')


def tables(metadata, schema=None):
    """The two tables every test starts with."""
    customer = Table(
        CUSTOMER, metadata,
        Column('id', Integer, primary_key=True, autoincrement=False),
        Column('name', String(20), nullable=False),
        Column('code', String(10)),
        UniqueConstraint('code', name='uq_snap_customer_code'),
        schema=schema)
    invoice = Table(
        INVOICE, metadata,
        Column('id', Integer, primary_key=True, autoincrement=False),
        Column('customer_id', Integer),
        Column('total', Numeric(10, 2)),
        Column('note', String(50)),
        ForeignKeyConstraint(['customer_id'], [customer.c.id],
                             name='fk_snap_invoice_customer'),
        Index('ix_snap_invoice_total', 'total'),
        schema=schema)
    return customer, invoice


class SnapshotTest(TestBase):
    __backend__ = True

    def setUp(self):
        self.owned = []
        self.addCleanup(self.drop_owned)
        self.metadata = MetaData()
        tables(self.metadata)
        self.create(self.metadata)

    def own(self, *names, schema=None):
        """Make tables ``names`` (of ``schema``) this test's, dropped after
        it; refuse to touch tables that already exist."""
        existing = set(inspect(self.engine).get_table_names(schema))
        taken = existing.intersection(names)
        if taken:
            raise RuntimeError('tables %s already exist: the suite never '
                               'touches tables it did not create' % taken)
        self.owned.extend((schema, name) for name in names)

    def create(self, metadata):
        self.own(*[t.name for t in metadata.sorted_tables])
        metadata.create_all(self.engine)

    def drop_owned(self):
        with self.engine.begin() as connection:
            for schema in {schema for schema, _ in self.owned}:
                # Dependent tables first.
                for name, _ in reversed(inspect(
                        connection).get_sorted_table_and_fkc_names(schema)):
                    if (schema, name) in self.owned:
                        Table(name, MetaData(), schema=schema).drop(
                            connection)

    def take(self, **kw):
        with self.engine.connect() as connection:
            return snapshot.take(connection, **kw)

    def alter(self, *changes, table=INVOICE):
        """Apply Alembic batch operations ``changes`` (functions of a batch
        operations object) to ``table``."""
        from alembic.operations import Operations
        from alembic.runtime.migration import MigrationContext
        with self.engine.begin() as connection:
            op = Operations(MigrationContext.configure(connection))
            with op.batch_alter_table(table) as batch:
                for change in changes:
                    change(batch)

    def changed(self, *changes, table=INVOICE):
        """The changes :func:`diff` finds after ``changes`` to ``table``;
        also checks that the snapshots' hashes differ."""
        before = self.take()
        self.alter(*changes, table=table)
        after = self.take()
        self.assertNotEqual(snapshot.snapshot_hash(before),
                            snapshot.snapshot_hash(after))
        return schemadiff.diff(before, after)

    @property
    def mysql(self):
        return self.dialect_name in ('mysql', 'mariadb')

    def test_unchanged_database_same_hash_across_connections(self):
        first = self.take()
        with self.engine.connect() as connection:
            second = snapshot.take(connection)
            third = snapshot.take(connection)
        self.assertEqual(snapshot.canonical_json(first),
                         snapshot.canonical_json(second))
        self.assertEqual(snapshot.snapshot_hash(first),
                         snapshot.snapshot_hash(third))
        self.assertEqual(schemadiff.diff(first, second), [])
        self.assertEqual(len(snapshot.snapshot_hash(first)), 64)

    def test_document(self):
        document = self.take()
        self.assertEqual(document['format'], snapshot.FORMAT)
        table = document['schemas']['']['tables'][INVOICE]
        self.assertEqual([c['name'] for c in table['columns']],
                         ['customer_id', 'id', 'note', 'total'])
        note = table['columns'][2]
        self.assertEqual(note, {'name': 'note', 'type': 'VARCHAR(50)',
                                'nullable': True, 'default': None})
        self.assertEqual(table['primary_key']['columns'], ['id'])
        fk, = table['foreign_keys']
        self.assertEqual(fk, {
            'name': 'fk_snap_invoice_customer', 'columns': ['customer_id'],
            'referred_schema': None, 'referred_table': CUSTOMER,
            'referred_columns': ['id'], 'ondelete': None, 'onupdate': None})
        self.assertIn({'name': 'ix_snap_invoice_total', 'columns': ['total'],
                       'unique': False}, table['indexes'])
        # JSON-safe, and loads back to the very same document.
        stored = snapshot.canonical_json(document)
        self.assertEqual(json.loads(stored), document)
        self.assertEqual(snapshot.load(stored), document)
        self.assertEqual(snapshot.snapshot_hash(snapshot.load(stored)),
                         snapshot.snapshot_hash(document))

    def test_add_column(self):
        change, = self.changed(
            lambda b: b.add_column(Column('paid', Integer)))
        self.assertEqual(change[:4], ('+', 'column', INVOICE, 'paid'))
        self.assertIsNone(change.old)
        self.assertTrue(change.new['nullable'])
        self.assertTrue(schemadiff.describe(change).startswith(
            '+column snap_invoice.paid INTEGER'))

    def test_drop_column(self):
        change, = self.changed(lambda b: b.drop_column('note'))
        self.assertEqual(change, Change(
            '-', 'column', INVOICE, 'note',
            {'name': 'note', 'type': 'VARCHAR(50)', 'nullable': True,
             'default': None}, None))
        self.assertEqual(schemadiff.describe(change),
                         '-column snap_invoice.note VARCHAR(50)')

    def test_nullability(self):
        change, = self.changed(lambda b: b.alter_column(
            'total', nullable=False, existing_type=Numeric(10, 2)))
        self.assertEqual(change[:4], ('~', 'column', INVOICE, 'total'))
        self.assertEqual(schemadiff.describe(change),
                         '~column snap_invoice.total: nullable true -> false')

    def test_type(self):
        change, = self.changed(lambda b: b.alter_column(
            'note', type_=String(80), existing_type=String(50)))
        self.assertEqual(change[:4], ('~', 'column', INVOICE, 'note'))
        self.assertEqual(
            schemadiff.describe(change),
            '~column snap_invoice.note: type VARCHAR(50) -> VARCHAR(80)')

    def test_add_and_drop_index(self):
        added, dropped = self.changed(
            lambda b: b.create_index('ix_snap_invoice_note', ['note']),
            lambda b: b.drop_index('ix_snap_invoice_total'))
        self.assertEqual(added[:4],
                         ('+', 'index', INVOICE, 'ix_snap_invoice_note'))
        self.assertEqual(schemadiff.describe(added),
                         '+index snap_invoice.ix_snap_invoice_note (note)')
        self.assertEqual(dropped[:4],
                         ('-', 'index', INVOICE, 'ix_snap_invoice_total'))
        self.assertEqual(schemadiff.summary([added, dropped]),
                         '+index snap_invoice.ix_snap_invoice_note; '
                         '-index snap_invoice.ix_snap_invoice_total')

    def test_new_and_dropped_table(self):
        before = self.take()
        metadata = MetaData()
        extra = Table(EXTRA, metadata, Column('id', Integer, primary_key=True),
                      Column('label', String(5)))
        self.create(metadata)
        middle = self.take()
        change, = schemadiff.diff(before, middle)
        self.assertEqual(change[:5], ('+', 'table', EXTRA, None, None))
        self.assertEqual(change.new,
                         middle['schemas']['']['tables'][EXTRA])
        self.assertEqual(schemadiff.describe(change),
                         '+table snap_extra (id, label)')
        extra.drop(self.engine)
        change, = schemadiff.diff(middle, self.take())
        self.assertEqual(change[:4], ('-', 'table', EXTRA, None))
        self.assertEqual(schemadiff.diff(before, self.take()), [])

    def test_foreign_key(self):
        name = 'fk_snap_invoice_customer'
        before = self.take()
        self.alter(lambda b: b.drop_constraint(name, type_='foreignkey'))
        dropped = self.take()
        change, = schemadiff.diff(before, dropped)
        self.assertEqual(change[:4], ('-', 'foreign key', INVOICE, name))
        self.assertEqual(
            schemadiff.describe(change), '-foreign key snap_invoice.'
            'fk_snap_invoice_customer (customer_id) -> snap_customer (id)')
        self.alter(lambda b: b.create_foreign_key(
            name, CUSTOMER, ['customer_id'], ['id'], ondelete='CASCADE'))
        change, = schemadiff.diff(before, self.take())
        self.assertEqual(change[:4], ('~', 'foreign key', INVOICE, name))
        self.assertEqual(
            schemadiff.describe(change), '~foreign key snap_invoice.'
            'fk_snap_invoice_customer: ondelete null -> CASCADE')

    def test_unique(self):
        # MySQL and MariaDB report unique constraints as unique indexes.
        kind = 'index' if self.mysql else 'unique'
        added, = self.changed(lambda b: b.create_unique_constraint(
            'uq_snap_invoice_note', ['note']))
        self.assertEqual(added[:4],
                         ('+', kind, INVOICE, 'uq_snap_invoice_note'))
        self.assertTrue(schemadiff.describe(added).startswith(
            '+%s snap_invoice.uq_snap_invoice_note (note)' % kind))
        dropped, = self.changed(lambda b: b.drop_constraint(
            'uq_snap_customer_code', type_='unique'), table=CUSTOMER)
        self.assertEqual(dropped[:4],
                         ('-', kind, CUSTOMER, 'uq_snap_customer_code'))

    def test_primary_key(self):
        metadata = MetaData()
        Table(PAIR, metadata,
              Column('a', Integer, autoincrement=False, nullable=False),
              Column('b', Integer, autoincrement=False, nullable=False),
              PrimaryKeyConstraint('a', name='pk_snap_pair'))
        self.create(metadata)
        changes = self.changed(
            lambda b: b.drop_constraint('pk_snap_pair', type_='primary'),
            lambda b: b.create_primary_key('pk_snap_pair', ['a', 'b']),
            table=PAIR)
        self.assertEqual({c.kind for c in changes}, {'primary key'})
        if len(changes) == 1:  # the key's name is reflected
            self.assertEqual(
                schemadiff.describe(changes[0]),
                '~primary key snap_pair.pk_snap_pair: columns (a) -> (a, b)')
        else:  # MySQL's are all PRIMARY: reflected without a name
            self.assertEqual([schemadiff.describe(c) for c in changes], [
                '-primary key snap_pair (a)', '+primary key snap_pair (a, b)'])

    def test_excluded_tables_are_ignored(self):
        metadata = MetaData()
        Table(EXTRA, metadata, Column('id', Integer, primary_key=True))
        self.create(metadata)
        exclude = [(None, EXTRA), ('no_such_schema', INVOICE)]
        before = self.take(exclude=exclude)
        self.assertNotIn(EXTRA, before['schemas']['']['tables'])
        self.assertIn(INVOICE, before['schemas']['']['tables'])
        self.alter(lambda b: b.add_column(Column('more', Integer)),
                   table=EXTRA)
        self.assertEqual(schemadiff.diff(before, self.take(exclude=exclude)),
                         [])
        change, = schemadiff.diff(before, self.take())
        self.assertEqual(change[:4], ('+', 'table', EXTRA, None))

    def test_other_schema(self):
        if self.dialect_name != 'postgresql':
            self.skipTest('a second schema is tested on PostgreSQL')
        schema = 'snap_%s' % secrets.token_hex(4)
        with self.engine.begin() as connection:
            connection.execute(text('CREATE SCHEMA %s' % schema))
        self.addCleanup(self.drop_schema, schema)
        metadata = MetaData()
        tables(metadata, schema=schema)
        self.own(CUSTOMER, INVOICE, schema=schema)
        metadata.create_all(self.engine)
        self.addCleanup(metadata.drop_all, self.engine)  # before the schema
        before = self.take(schemas=(None, schema))
        self.assertEqual(set(before['schemas']), {'', schema})
        default, other = (before['schemas'][key]['tables']
                          for key in ('', schema))
        self.assertEqual(other[INVOICE]['columns'],
                         default[INVOICE]['columns'])
        fk, = before['schemas'][schema]['tables'][INVOICE]['foreign_keys']
        self.assertEqual(fk['referred_schema'], schema)
        with self.engine.begin() as connection:
            connection.execute(text('ALTER TABLE %s.%s ADD COLUMN more INTEGER'
                                    % (schema, INVOICE)))
        change, = schemadiff.diff(before, self.take(schemas=(None, schema)))
        self.assertEqual(change[:4],
                         ('+', 'column', '%s.%s' % (schema, INVOICE), 'more'))
        self.assertEqual(schemadiff.summary([change]),
                         '+column %s.snap_invoice.more' % schema)

    def drop_schema(self, schema):
        with self.engine.begin() as connection:
            connection.execute(text('DROP SCHEMA %s' % schema))


def column(name, type_='INTEGER', nullable=True, default=None):
    return {'name': name, 'type': type_, 'nullable': nullable,
            'default': default}


def document(**tables):
    return {'format': 1, 'schemas': {'': {'tables': tables}}}


def table(*columns, **kw):
    return dict({'columns': list(columns), 'primary_key': None,
                 'foreign_keys': [], 'unique_constraints': [], 'indexes': [],
                 'check_constraints': []}, **kw)


class DocumentTest(unittest.TestCase):
    """What needs no database: loading, comparing, describing."""

    def test_load_rejects_what_is_not_a_snapshot(self):
        for bad in ('', '{', '[]', '{"format": 2, "schemas": {}}',
                    '{"format": true, "schemas": {}}', '{"format": 1}',
                    '{"format": 1, "schemas": {"": {}}}', 'null'):
            with self.assertRaises(ValueError, msg=bad):
                snapshot.load(bad)
        self.assertEqual(snapshot.load('{"format":1,"schemas":{}}'),
                         {'format': 1, 'schemas': {}})

    def test_canonical_json_sorts_entries_not_their_columns(self):
        one = document(t=table(column('b'), column('a'), indexes=[
            {'name': 'ix_2', 'columns': ['b', 'a'], 'unique': False},
            {'name': 'ix_1', 'columns': ['a'], 'unique': False}]))
        two = document(t=table(column('a'), column('b'), indexes=[
            {'name': 'ix_1', 'columns': ['a'], 'unique': False},
            {'name': 'ix_2', 'columns': ['b', 'a'], 'unique': False}]))
        self.assertEqual(snapshot.canonical_json(one),
                         snapshot.canonical_json(two))
        self.assertEqual(snapshot.snapshot_hash(one),
                         snapshot.snapshot_hash(two))
        self.assertIn('"columns":["b","a"]', snapshot.canonical_json(one))
        self.assertEqual(schemadiff.diff(one, two), [])
        self.assertEqual(snapshot.canonical_json(document(t=table(
            column('é')))).count('é'), 1)

    def test_unnamed_constraints_are_named_by_their_columns(self):
        unique = {'name': None, 'columns': ['a', 'b']}
        old = document(t=table(column('a'), column('b')))
        new = document(t=table(column('a'), column('b'),
                               unique_constraints=[unique, unique],
                               check_constraints=[
                                   {'name': None, 'sqltext': 'a > 0'}]))
        self.assertEqual(schemadiff.diff(old, new), [
            Change('+', 'unique', 't', '(a, b)', None, unique),
            Change('+', 'unique', 't', '(a, b) #2', None, unique),
            Change('+', 'check', 't', '(a > 0)', None,
                   {'name': None, 'sqltext': 'a > 0'})])
        self.assertEqual([schemadiff.describe(c) for c in schemadiff.diff(
            old, new)], ['+unique t (a, b)', '+unique t (a, b) #2',
                         '+check t (a > 0)'])

    def test_kinds_not_reflected_are_not_compared(self):
        old = document(t=table(column('a')))
        new = document(t=table(column('a'), check_constraints=[
            {'name': 'ck', 'sqltext': 'a > 0'}]))
        del old['schemas']['']['tables']['t']['check_constraints']
        self.assertEqual(schemadiff.diff(old, new), [])

    def test_diff_is_sorted(self):
        old = document(b=table(column('x')), a=table(column('x')))
        new = document(c=table(column('x')), a=table(
            column('x', nullable=False), column('y', default="'0'"),
            primary_key={'name': 'pk_a', 'columns': ['x']}))
        changes = schemadiff.diff(old, new)
        self.assertEqual([schemadiff.describe(c) for c in changes], [
            '~column a.x: nullable true -> false',
            '+column a.y INTEGER DEFAULT \'0\'',
            '+primary key a.pk_a (x)',
            '-table b (x)',
            '+table c (x)'])

    def test_describe(self):
        fk = {'name': 'fk_a', 'columns': ['b_id'], 'referred_schema': 's',
              'referred_table': 'b', 'referred_columns': ['id'],
              'ondelete': 'CASCADE', 'onupdate': 'SET NULL'}
        for change, expected in (
                (Change('+', 'foreign key', 'a', 'fk_a', None, fk),
                 '+foreign key a.fk_a (b_id) -> s.b (id) ON DELETE CASCADE '
                 'ON UPDATE SET NULL'),
                (Change('-', 'index', 's.a', 'ix', {
                    'name': 'ix', 'columns': ['lower(x)'], 'unique': True},
                    None), '-index s.a.ix (lower(x)) UNIQUE'),
                (Change('+', 'column', 'a', 'x', None, column(
                    'x', 'VARCHAR(2)', False, "'no'")),
                 "+column a.x VARCHAR(2) NOT NULL DEFAULT 'no'"),
                (Change('~', 'column', 'a', 'x', column('x'), column(
                    'x', 'BIGINT', default='1')),
                 '~column a.x: type INTEGER -> BIGINT, default null -> 1'),
                (Change('+', 'check', 'a', 'ck_a', None,
                        {'name': 'ck_a', 'sqltext': 'x > 0'}),
                 '+check a.ck_a (x > 0)')):
            self.assertEqual(schemadiff.describe(change), expected)

    def test_summary(self):
        changes = [Change('+', 'column', 'invoice', 'note', None, None),
                   Change('-', 'index', 'invoice', 'ix_invoice_total', None,
                          None),
                   Change('+', 'table', 'audit_log', None, None, None)]
        full = ('+column invoice.note; -index invoice.ix_invoice_total; '
                '+table audit_log')
        self.assertEqual(schemadiff.summary(changes), full)
        self.assertEqual(schemadiff.describe(changes[0]),
                         '+column invoice.note')  # no entry: no details
        self.assertEqual(schemadiff.summary(changes, limit=len(full)), full)
        self.assertEqual(schemadiff.summary(changes, limit=len(full) - 1),
                         '+column invoice.note; -index '
                         'invoice.ix_invoice_total; and 1 more')
        self.assertEqual(schemadiff.summary(changes, limit=40),
                         '+column invoice.note; and 2 more')
        self.assertEqual(schemadiff.summary(changes, limit=12), 'and 3 more')
        self.assertEqual(schemadiff.summary(changes, limit=5), 'and 3')
        self.assertEqual(schemadiff.summary([]), '')
        many = [Change('+', 'column', 't', 'c%03d' % i, None, None)
                for i in range(100)]
        text = schemadiff.summary(many)
        self.assertLessEqual(len(text), 255)
        self.assertRegex(text, r'^\+column t\.c000; .*; and \d+ more$')
        shown = text.count('+column')
        self.assertTrue(text.endswith('and %d more' % (100 - shown)))
        # One more shown would not have fitted.
        self.assertGreater(len(schemadiff.summary(many[:shown + 1])) +
                           len('; and %d more' % (99 - shown)), 255)
