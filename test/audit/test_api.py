"""The public API of 0.2.0: names, argument checks, errors and warnings."""
import datetime
import unittest
import warnings

from sqlalchemy import Column
from sqlalchemy import String

import audit_alembic
from audit_alembic import Auditor
from audit_alembic import CommonColumnValues
from audit_alembic import exc
from audit_alembic.testing.fixtures import TestBase
from test.audit.graphs import LINEAR


class PublicNamesTest(unittest.TestCase):
    def test_names(self):
        for name in ('Auditor', 'CommonColumnValues',
                     'alembic_supports_callback', 'exc'):
            self.assertTrue(hasattr(audit_alembic, name), name)
        for name in ('change_time', 'operation_type', 'operation_direction',
                     'new_alembic_version', 'old_alembic_version'):
            self.assertTrue(callable(getattr(CommonColumnValues, name)))

    def test_unknown_names_raise_attribute_error(self):
        with self.assertRaises(AttributeError):
            audit_alembic.NoSuchName
        self.assertIn('Auditor', dir(audit_alembic))

    def test_exception_hierarchy(self):
        for name in ('AuditConstructError', 'AuditCreateError',
                     'AuditRuntimeError', 'AuditSetupError'):
            self.assertTrue(issubclass(getattr(exc, name), exc.AuditError))
        self.assertTrue(issubclass(exc.UserVersionWarning, UserWarning))


class SupportsCallbackTest(unittest.TestCase):
    def test_default_is_alembics_configure(self):
        self.assertIs(audit_alembic.alembic_supports_callback(), True)

    def test_the_context_proxy(self):
        from alembic import context
        self.assertIs(
            audit_alembic.alembic_supports_callback(context.configure), True)

    def test_given_methods(self):
        def old_configure(connection=None, url=None, **kw):
            pass

        def new_configure(connection=None, on_version_apply=None):
            pass
        self.assertIs(
            audit_alembic.alembic_supports_callback(old_configure), False)
        self.assertIs(
            audit_alembic.alembic_supports_callback(new_configure), True)


class ConstructTest(unittest.TestCase):
    def test_make_row_must_be_callable_or_dict(self):
        table = Auditor.create('v').table
        for bad in (None, 42, 'row', ['a']):
            with self.assertRaises(exc.AuditConstructError):
                Auditor(table, bad)
        Auditor(table, {'user_version': 'v'})
        Auditor(table, lambda **kw: {})

    def test_extra_column_name_used_twice(self):
        with self.assertRaisesRegex(exc.AuditCreateError, 'user_version'):
            Auditor.create('v', extra_columns=[
                (Column('user_version', String(10)), 'x')])
        with self.assertRaisesRegex(exc.AuditCreateError, 'extra'):
            Auditor.create('v', extra_columns=[
                (Column('extra', String(10)), 'x'),
                (Column('extra', String(10)), 'y')])

    def test_standard_column_names_must_differ(self):
        with self.assertRaisesRegex(exc.AuditCreateError, 'changed_at'):
            Auditor.create('v', user_version_column_name='changed_at')

    def test_none_user_version_warns(self):
        with self.assertWarns(exc.UserVersionWarning):
            Auditor.create(None)
        with warnings.catch_warnings():
            warnings.simplefilter('error')
            Auditor.create(None, user_version_nullable=True)

    def test_defaults(self):
        table = Auditor.create('v').table
        self.assertEqual(table.name, 'alembic_version_history')
        self.assertEqual([c.name for c in table.primary_key], ['id'])

    def test_metadata(self):
        from sqlalchemy import MetaData
        metadata = MetaData()
        auditor = Auditor.create('v', metadata=metadata)
        self.assertIs(metadata.tables['alembic_version_history'],
                      auditor.table)

    def test_change_time_is_naive_utc(self):
        value = CommonColumnValues.change_time()
        now = datetime.datetime.now(datetime.timezone.utc).replace(
            tzinfo=None)
        self.assertIsNone(value.tzinfo)
        self.assertLess(abs(now - value), datetime.timedelta(seconds=5))


class RuntimeChecksTest(TestBase):
    def test_make_row_returning_a_non_dict(self):
        auditor = Auditor(Auditor.create('v').table, lambda **kw: ['no'])
        env = self.scratch_env(LINEAR, auditor=auditor)
        with self.assertRaisesRegex(exc.AuditRuntimeError, 'dict'):
            env.run('upgrade', 'A')

    def test_user_version_returning_none_warns(self):
        env = self.scratch_env(
            LINEAR, auditor=Auditor.create(lambda **kw: None))
        with self.assertWarns(exc.UserVersionWarning):
            env.run('upgrade', 'A')
        self.assertEqual([row['user_version'] for row in env.history()],
                         [None])

    def test_nullable_user_version_does_not_warn(self):
        env = self.scratch_env(LINEAR, auditor=Auditor.create(
            lambda **kw: None, user_version_nullable=True))
        # Only our warning counts: older Alembic releases warn about
        # their own use of SQLAlchemy 2.1.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            env.run('upgrade', 'A')
        self.assertEqual(
            [w for w in caught
             if issubclass(w.category, exc.UserVersionWarning)], [])
