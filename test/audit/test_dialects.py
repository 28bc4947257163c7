""":mod:`audit_alembic.dialects`: every "which server is this" fact, asked
of dialects without a server."""
import types
import unittest

from sqlalchemy.dialects import mssql
from sqlalchemy.dialects import mysql
from sqlalchemy.dialects import oracle
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import make_url

from audit_alembic import dialects
from audit_alembic import schema


def mariadb():
    dialect = mysql.dialect()
    dialect.is_mariadb = True  # as the dialect finds on connecting
    return dialect


def context(dialect, transactional_ddl, **opts):
    """What the facts read of an Alembic migration context."""
    return types.SimpleNamespace(
        dialect=dialect, opts=opts,
        impl=types.SimpleNamespace(transactional_ddl=transactional_ddl))


class SQLiteURLTest(unittest.TestCase):
    IN_MEMORY = ('sqlite://', 'sqlite:///:memory:',
                 'sqlite:///file::memory:?cache=shared&uri=true',
                 'sqlite:///file:db_a?mode=memory&cache=shared&uri=true',
                 'sqlite+pysqlite:///:memory:')
    URIS = ('sqlite:///file:app.db?uri=true',
            'sqlite:///file:app.db?mode=ro&uri=true')

    def test_in_memory(self):
        for url in self.IN_MEMORY:
            self.assertTrue(dialects.sqlite_in_memory(make_url(url)), url)
            self.assertIsNone(dialects.sqlite_file(make_url(url)), url)

    def test_files(self):
        for url, path in (('sqlite:///app.db', 'app.db'),
                          ('sqlite:////tmp/app.db', '/tmp/app.db')):
            self.assertFalse(dialects.sqlite_in_memory(make_url(url)))
            self.assertEqual(dialects.sqlite_file(make_url(url)), path)

    def test_file_uris_are_files_whose_path_sqlite_reads(self):
        for url in self.URIS:
            self.assertFalse(dialects.sqlite_in_memory(make_url(url)), url)
            self.assertIsNone(dialects.sqlite_file(make_url(url)), url)

    def test_other_databases(self):
        url = make_url('postgresql+psycopg://u@h/:memory:')
        self.assertFalse(dialects.sqlite_in_memory(url))
        self.assertIsNone(dialects.sqlite_file(url))
        self.assertTrue(dialects.has_a_server(url))
        self.assertFalse(dialects.has_a_server(make_url('sqlite://')))


class FactsTest(unittest.TestCase):
    def test_mysql_and_mariadb_are_one_kind(self):
        for dialect in (mysql.dialect(), mariadb(), 'mariadb'):
            server = dialects.server(dialect)
            self.assertEqual(server.chain_lock, dialects.SESSION_LOCK)
            self.assertTrue(server.reads_a_snapshot)
            self.assertEqual(server.session_user, dialects.ACCOUNT_USER)

    def test_only_mysql_lacks_create_index_if_not_exists(self):
        self.assertTrue(dialects.lacks_create_index_if_not_exists(
            mysql.dialect()))
        for dialect in (mariadb(), postgresql.dialect(), sqlite.dialect()):
            self.assertFalse(
                dialects.lacks_create_index_if_not_exists(dialect), dialect)

    def test_chain_locks(self):
        self.assertEqual(dialects.server('postgresql').chain_lock,
                         dialects.TRANSACTION_LOCK)
        self.assertEqual(dialects.server('sqlite').chain_lock,
                         dialects.WRITE_LOCK)
        self.assertIsNone(dialects.server('oracle').chain_lock)

    def test_an_unknown_dialect_gets_the_defaults(self):
        server = dialects.server('nosuchdb')
        self.assertIs(type(server), dialects.Server)
        self.assertIsNone(server.chain_lock)
        self.assertIsNone(dialects.offline_session_user(
            types.SimpleNamespace(name='nosuchdb')))
        self.assertEqual(str(dialects.offline_utc_now(
            types.SimpleNamespace(name='nosuchdb'))), 'CURRENT_TIMESTAMP')

    def test_offline_utc_now(self):
        for dialect, expected in (
                (postgresql.dialect(),
                 "(CURRENT_TIMESTAMP AT TIME ZONE 'UTC')"),
                (mysql.dialect(), 'UTC_TIMESTAMP(6)'),
                (mariadb(), 'UTC_TIMESTAMP(6)'),
                (mssql.dialect(), 'SYSUTCDATETIME()'),
                (oracle.dialect(), 'SYS_EXTRACT_UTC(SYSTIMESTAMP)')):
            self.assertEqual(str(dialects.offline_utc_now(dialect).compile(
                dialect=dialect)), expected)

    def test_offline_session_user(self):
        user = dialects.offline_session_user(mysql.dialect())
        self.assertEqual(
            str(user.compile(dialect=mysql.dialect(),
                             compile_kwargs={'literal_binds': True})),
            "substring_index(CURRENT_USER, '@', 1)")
        for dialect in (postgresql.dialect(), mssql.dialect()):
            self.assertEqual(str(dialects.offline_session_user(
                dialect).compile(dialect=dialect)), 'CURRENT_USER')
        self.assertIsNone(dialects.offline_session_user(sqlite.dialect()))

    def test_change_time_keeps_microseconds(self):
        self.assertEqual(schema.change_time_type(mysql.dialect()).fsp, 6)
        self.assertEqual(type(schema.change_time_type(
            postgresql.dialect())).__name__, 'DateTime')

    def test_transactions(self):
        # SQLite's DDL joins the open transaction; MySQL's commits it.
        self.assertFalse(dialects.ddl_commits_by_itself(
            context(sqlite.dialect(), False)))
        self.assertTrue(dialects.ddl_commits_by_itself(
            context(mysql.dialect(), False)))
        self.assertFalse(dialects.ddl_commits_by_itself(
            context(postgresql.dialect(), True)))
        self.assertTrue(dialects.steps_share_a_transaction(
            context(postgresql.dialect(), True)))
        self.assertFalse(dialects.steps_share_a_transaction(
            context(postgresql.dialect(), True,
                    transaction_per_migration=True)))
        self.assertFalse(dialects.steps_share_a_transaction(
            context(mysql.dialect(), False)))
