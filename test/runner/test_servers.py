"""The suite on the local servers: passwords hidden, two runs at once,
servers that are down or lack the test role."""
import concurrent.futures
import os
import unittest
from unittest import mock

from sqlalchemy.engine import make_url

from audit_alembic.masking import masked
from test.runner.support import PASSWORD
from test.runner.support import CheckoutTestCase
from test.runner.support import closed_port
from test.runner.support import skip_without


REQUIRE_SERVERS = 'AUDIT_ALEMBIC_REQUIRE_SERVERS'


def require_server(test, alias):
    """The URL of ``[db]`` alias ``alias`` if it accepts a login; else
    skip ``test`` (fail it where AUDIT_ALEMBIC_REQUIRE_SERVERS=1, as in
    CI) with one reason naming what is missing."""
    from audit_alembic.testing import provision
    from audit_alembic.testing.plugin import targets
    url = dict(targets.resolve_targets(
        [('db', alias)], targets.read_aliases()))[alias]
    problem = provision.login_problem(url)
    if problem is not None:
        message = '%s; provision the local servers with %s' % (
            problem, provision.SETUP_SCRIPT)
        if os.environ.get(REQUIRE_SERVERS) == '1':
            test.fail(message)
        test.skipTest(message)
    return url.render_as_string(hide_password=False)


LOG_FLAGS = ['--log-info=sqlalchemy.engine', '--log-info=sqlalchemy.pool',
             '--log-info=audit_alembic']


class PasswordsTest(CheckoutTestCase):
    def test_no_password_in_header_or_info_logs(self):
        # Under pytest; SimultaneousRunsTest checks the runs of nose.
        skip_without('psycopg')
        url = require_server(self, 'postgresql')
        result = self.checkout.pytest(
            '-v', '-s', '--dburi', url, 'test/audit/test_recording.py', '-k',
            'test_table_definition', *LOG_FLAGS)
        self.assertEqual(result.returncode, 0, result.output)
        self.assertIn('postgresql+psycopg://scott:***@', result.output)
        self.assertIn('INFO sqlalchemy.engine', result.output)
        self.assertNotIn(make_url(url).password, result.output)


class SimultaneousRunsTest(CheckoutTestCase):
    """Two nose runs at once on the PostgreSQL and MySQL servers, each in
    databases of its own, with the servers' INFO logs on (one test: a
    worker of a parallel run makes the two runs once)."""

    def test_two_runs_at_once_on_each_server_hide_passwords(self):
        urls = []
        for alias, driver in (('postgresql', 'psycopg'),
                              ('mysql', 'pymysql')):
            with self.subTest(server=alias):
                skip_without(driver)
                urls.append(require_server(self, alias))
        if not urls:
            self.skipTest('no server to run on')
        from audit_alembic.testing import provision
        for url in urls:
            problem = provision.isolation_problem(make_url(url))
            if problem is not None:
                # Two runs in one database would collide on its tables.
                self.skipTest('needs a database of its own per run: %s'
                              % problem)
        args = [arg for url in urls for arg in ('--dburi', url)]
        # A test that writes the tables every run names alike.
        name = ('test.audit.test_recording:RecordingTest.'
                'test_upgrade_downgrade_stamp')
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            results = list(pool.map(lambda _: self.checkout.nose(
                '-v', '--all-targets', *args, name, *LOG_FLAGS),
                range(2)))
        for result in results:
            self.assertEqual(result.returncode, 0, result.output)
            self.assertNotIn('warning:', result.stderr)
            # The test ran on every server.
            self.assertIn('Database targets: ' + ', '.join(
                '%s (%s)' % (make_url(url).get_backend_name(), masked(url))
                for url in urls), result.stderr.splitlines())
            for url in urls[1:]:
                # "name (module.Class.name)", or "name (module.Class)"
                # before Python 3.11.
                self.assertRegex(result.stderr, r'RecordingTest_%s[.)]' %
                                 make_url(url).get_backend_name())
            # The INFO logs show the URLs, with their passwords masked.
            self.assertIn('INFO sqlalchemy.engine', result.output)
            for url in urls:
                self.assertIn(masked(url), result.output)
                self.assertNotIn(make_url(url).password, result.output)


class UnprovisionedServerTest(CheckoutTestCase):
    """The suite on servers that are down or lack the test role."""

    def test_tests_needing_a_server_skip_saying_why(self):
        skip_without('psycopg')
        url = 'postgresql+psycopg://scott:%s@127.0.0.1:%d/test' % (
            PASSWORD, closed_port())
        self.checkout.write_test_cfg('[db]\npostgresql = %s\n' % url)
        result = self.checkout.nose(
            '-v', 'test.runner.test_servers:PasswordsTest')
        self.assertEqual(result.returncode, 0, result.output)
        self.assertRegex(
            result.stderr, r'skipped cannot connect to postgresql\+'
            r'psycopg://scott:\*\*\*@127.0.0.1:\d+/test: .*Connection '
            r'refused.*; provision the local servers with '
            r'tools/setup_test_databases.sh')
        self.assertNotIn(PASSWORD, result.output)

    def require(self, url, **env):
        """require_server() on ``url``, as the run above calls it."""
        from audit_alembic.testing.plugin import targets
        with mock.patch.object(targets, 'read_aliases',
                               return_value={'postgresql': url}), \
                mock.patch.dict(os.environ):
            os.environ.pop(REQUIRE_SERVERS, None)
            os.environ.update(env)
            return require_server(self, 'postgresql')

    def test_a_missing_role_is_named(self):
        skip_without('psycopg')
        require_server(self, 'postgresql')  # the server is up
        with self.assertRaises(unittest.SkipTest) as caught:
            self.require('postgresql+psycopg://nobody_here:%s@127.0.0.1:5432'
                         '/test' % PASSWORD)
        self.assertRegex(
            str(caught.exception), r'^cannot connect to postgresql\+psycopg:'
            r'//nobody_here:\*\*\*@127.0.0.1:5432/test: .*role "nobody_here" '
            r'does not exist.*; provision the local servers with '
            r'tools/setup_test_databases.sh$')
        self.assertNotIn(PASSWORD, str(caught.exception))

    def test_ci_fails_instead(self):
        skip_without('psycopg')
        with self.assertRaises(self.failureException) as caught:
            self.require('postgresql+psycopg://scott:%s@127.0.0.1:%d/test'
                         % (PASSWORD, closed_port()), **{REQUIRE_SERVERS: '1'})
        self.assertRegex(str(caught.exception), r'^cannot connect to .*; '
                         r'provision the local servers with ')
