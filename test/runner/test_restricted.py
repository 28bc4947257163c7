"""The suite where the test role may use only the configured database
(no CREATE DATABASE): one worker, one warning, isolation tests skipped.

Each test makes such a role, and a database for it alone, as the
server's superuser (``postgres`` / ``root``, no password), and drops
both afterwards; it skips if that login does not work.
"""
import secrets
import sys
import unittest

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from test.runner.support import CheckoutTestCase
from test.runner.support import skip_without

#: A test that writes the tables every run names alike (scratch_a...):
#: workers sharing a database collide on them.
COLLIDING = 'test.audit.test_recording'
ISOLATION_TEST = 'test.runner.test_servers:SimultaneousRunsTest'


def superuser_engine(test, url):
    """An AUTOCOMMIT engine logged in as superuser at ``url``; skips
    ``test`` if that login does not work."""
    from audit_alembic.testing import provision
    problem = provision.login_problem(make_url(url), timeout=5)
    if problem is not None:
        test.skipTest('needs a superuser login to make a restricted '
                      'role: %s' % problem)
    engine = create_engine(url, isolation_level='AUTOCOMMIT')
    test.addCleanup(engine.dispose)
    return engine


class RestrictedRoleMixin:
    """``self.url``: a role that may use one database, and not create
    any, made by :meth:`make_role` (and dropped after)."""

    alias = driver = None

    def setUp(self):
        super().setUp()
        skip_without(self.driver)
        self.name = 'aa_restricted_%s' % secrets.token_hex(4)
        self.password = secrets.token_hex(8)
        self.url = self.make_role()

    def run_suite(self, *args):
        self.checkout.write_test_cfg('[db]\n%s = %s\n' % (
            self.alias, self.url))
        return self.checkout.nose('--processes', '2', '-v', '--db',
                                  self.alias, *args, timeout=300)

    def assertPassesInOneWorker(self, result, warning_lines=1):
        self.assertEqual(result.returncode, 0, result.output)
        self.assertNotIn(self.password, result.output)
        warnings = [line for line in result.output.splitlines()
                    if line.startswith('warning:')]
        self.assertEqual(len(warnings), warning_lines, result.output)
        self.assertIn('cannot create a database on', warnings[0])
        self.assertIn('tools/setup_test_databases.sh', warnings[0])

    def test_nose_with_two_workers_passes_in_one(self):
        result = self.run_suite(COLLIDING, ISOLATION_TEST)
        self.assertPassesInOneWorker(result)
        self.assertRegex(result.stderr, r'skipped needs a database of its '
                         r'own per run: .*tools/setup_test_databases.sh')

    def test_pytest_with_two_workers_passes_in_one(self):
        skip_without('xdist')
        self.checkout.write_test_cfg('[db]\n%s = %s\n' % (
            self.alias, self.url))
        result = self.checkout.pytest(
            '-n', '2', '-q', '--db', self.alias,
            'test/audit/test_recording.py', timeout=300)
        self.assertPassesInOneWorker(result)


class PostgresqlRestrictedTest(RestrictedRoleMixin, CheckoutTestCase):
    alias, driver = 'postgresql', 'psycopg'

    def make_role(self):
        admin = superuser_engine(
            self, 'postgresql+psycopg://postgres@127.0.0.1:5432/postgres')
        name = self.name
        with admin.connect() as connection:
            connection.exec_driver_sql(
                "CREATE ROLE %s LOGIN NOCREATEDB PASSWORD '%s'"
                % (name, self.password))
            self.addCleanup(self.drop, admin, name)
            connection.exec_driver_sql('CREATE DATABASE %s' % name)
            connection.exec_driver_sql(
                'GRANT ALL PRIVILEGES ON DATABASE %s TO %s' % (name, name))
        own = create_engine(admin.url.set(database=name),
                            isolation_level='AUTOCOMMIT')
        with own.connect() as connection:
            connection.exec_driver_sql(
                'GRANT ALL ON SCHEMA public TO %s' % name)
        own.dispose()
        return 'postgresql+psycopg://%s:%s@127.0.0.1:5432/%s' % (
            name, self.password, name)

    def drop(self, admin, name):
        """Drop the database and role this test made, nothing else."""
        with admin.connect() as connection:
            connection.exec_driver_sql(
                'DROP DATABASE IF EXISTS %s WITH (FORCE)' % name)
            connection.exec_driver_sql('DROP ROLE IF EXISTS %s' % name)


class MariadbRestrictedTest(RestrictedRoleMixin, CheckoutTestCase):
    alias, driver = 'mysql', 'pymysql'

    def make_role(self):
        admin = superuser_engine(
            self, 'mysql+pymysql://root@127.0.0.1:3306/mysql')
        name = self.name
        with admin.connect() as connection:
            connection.exec_driver_sql(
                "CREATE USER '%s'@'%%%%' IDENTIFIED BY '%s'"
                % (name, self.password))
            self.addCleanup(self.drop, admin, name)
            connection.exec_driver_sql('CREATE DATABASE `%s`' % name)
            connection.exec_driver_sql(
                "GRANT ALL PRIVILEGES ON `%s`.* TO '%s'@'%%%%'"
                % (name, name))
        return 'mysql+pymysql://%s:%s@127.0.0.1:3306/%s?charset=utf8mb4' % (
            name, self.password, name)

    def drop(self, admin, name):
        """Drop the database and user this test made, nothing else."""
        with admin.connect() as connection:
            connection.exec_driver_sql('DROP DATABASE IF EXISTS `%s`' % name)
            connection.exec_driver_sql("DROP USER IF EXISTS '%s'@'%%%%'"
                                       % name)


if __name__ == '__main__':  # pragma: no cover
    unittest.main(argv=sys.argv)
