"""Targets: config files, bad input, --all-targets."""
import time
from unittest import mock

from sqlalchemy.engine import make_url

from audit_alembic.testing.fixtures import SilentServer
from test.runner.support import PASSWORD
from test.runner.support import CheckoutTestCase
from test.runner.support import closed_port
from test.runner.support import dbs_listing
from test.runner.support import runner_error
from test.runner.support import server_answers
from test.runner.support import skip_without

SAMPLE = 'test.runner.sample'


class ConfigFilesTest(CheckoutTestCase):
    def test_dbs_masks_passwords(self):
        result = self.checkout.nose('--dbs')
        self.assertEqual(result.returncode, 0, result.output)
        self.assertEqual(result.stdout.splitlines()[0],
                         'Available --db options (use --dburi to override)')
        self.assertRegex(
            result.stdout,
            r'\n +postgresql +postgresql\+psycopg://scott:\*\*\*@127.0.0.1:'
            r'5432/test\n')
        self.assertRegex(result.stdout, r'\n +sqlite +sqlite://\n')
        self.assertNotIn('tiger', result.output)

    def test_test_cfg_overrides_and_extends(self):
        self.checkout.write_test_cfg(
            '[db]\npostgresql = postgresql+psycopg://me:%s@db.example/x\n'
            'mine = sqlite:///mine.db\n' % PASSWORD)
        listing = dbs_listing(self.checkout.root)
        self.assertIn('postgresql+psycopg://me:***@db.example/x', listing)
        self.assertRegex(listing, r'\n +mine +sqlite:///mine.db(\n|$)')
        self.assertIn('sqlite_file', listing)
        self.assertNotIn(PASSWORD, listing)

    def test_test_cfg_alias_is_used(self):
        # In this process; test_isolation.FileTargetTest's nose run uses
        # test.cfg aliases.
        from audit_alembic.testing.plugin import targets
        self.checkout.write_test_cfg('[db]\nmine = sqlite:///mine.db\n')
        aliases = targets.read_aliases(self.checkout.root)
        self.assertEqual(
            [(label, str(url)) for label, url in
             targets.resolve_targets([('db', 'mine')], aliases)],
            [('mine', 'sqlite:///mine.db')])

    def test_malformed_test_cfg(self):
        self.checkout.write_test_cfg(
            '[db]\nmine = sqlite://\nthis line is no option\n')
        self.assertErrorLine(runner_error(root=self.checkout.root),
                             'malformed test.cfg', 'line 3')

    def test_test_cfg_with_a_duplicate_alias(self):
        self.checkout.write_test_cfg(
            '[db]\nmine = postgresql://me:%s@host/db\nmine = sqlite://\n'
            % PASSWORD)
        self.assertErrorLine(runner_error(root=self.checkout.root),
                             'malformed test.cfg', 'line 3', "'mine'")

    def test_test_cfg_without_section_header(self):
        self.checkout.write_test_cfg('mine = sqlite://\n')
        self.assertErrorLine(runner_error(root=self.checkout.root),
                             'malformed test.cfg', 'line 1')


class BadInputTest(CheckoutTestCase):
    """Most run in this process (see runner_error); a few run the
    runners, to check that the message is their one line."""

    def test_unknown_alias_lists_the_valid_ones(self):
        self.assertErrorLine(
            runner_error('--db', 'oracle'),
            "unknown --db alias 'oracle'",
            'default, mariadb, mysql, postgresql, sqlite, sqlite_file')

    def test_malformed_dburi(self):
        self.assertErrorLine(
            runner_error('--dburi', 'postgresql//scott:%s@host/db'
                         % PASSWORD),
            'malformed --dburi', 'postgresql//***@host/db')

    def test_unknown_dialect(self):
        self.assertErrorLine(
            runner_error('--dburi', 'nosuchdb://scott:%s@host/db'
                         % PASSWORD),
            "unknown database dialect 'nosuchdb'")

    def test_driver_not_installed(self):
        try:
            import MySQLdb  # noqa: F401
            self.skipTest('mysqlclient is installed here')
        except ImportError:
            pass
        self.assertErrorLine(
            runner_error('--dburi', 'mysql+mysqldb://scott:%s@h/test'
                         % PASSWORD),
            'needs the mysqldb driver', "pip install 'mysqlclient'")

    def test_unreachable_servers_fail_fast(self):
        skip_without('psycopg', 'pymysql')
        port = closed_port()
        for url in ('postgresql+psycopg://scott:%s@127.0.0.1:%d/test',
                    'mysql+pymysql://scott:%s@127.0.0.1:%d/test'):
            url = url % (PASSWORD, port)
            with self.subTest(url=url):
                started = time.monotonic()
                message = runner_error('--dburi', url)
                self.assertLess(time.monotonic() - started, 10)
                self.assertErrorLine(message, 'cannot connect to %s' %
                                     url.replace(PASSWORD, '***'))
        # pytest prints it as its one line (nose2: AllTargetsTest's run).
        url = 'postgresql+psycopg://scott:%s@127.0.0.1:%d/test' % (
            PASSWORD, port)
        self.assertOneLineError(
            self.checkout.pytest('--dburi', url, 'test/runner/sample'),
            'ERROR: cannot connect to', code=4)

    def test_silent_server_fails_within_the_timeout(self):
        # In-process, with a shorter timeout to keep the suite fast; the
        # closed-port test above covers the one-line error end to end.
        skip_without('pymysql')
        from audit_alembic import engines as database
        from audit_alembic.testing import provision
        with SilentServer() as port, \
                mock.patch.object(database, 'CONNECT_TIMEOUT', 1):
            url = 'mysql+pymysql://scott:%s@127.0.0.1:%d/test' % (
                PASSWORD, port)
            target = provision.Target('silent', make_url(url))
            started = time.monotonic()
            with self.assertRaises(provision.TargetError) as caught:
                provision.connect_all([target])
            elapsed = time.monotonic() - started
        target.engine.dispose()
        self.assertGreaterEqual(elapsed, 1)
        self.assertLess(elapsed, 10)
        self.assertEqual(str(caught.exception), 'cannot connect to %s: no '
                         'answer within 1 second' % url.replace(
                             PASSWORD, '***'))

    def test_targets_connected_before_a_failing_one_are_closed(self):
        # The run ends with the error: nothing is left for the garbage
        # collector to close at exit (with a ResourceWarning, which
        # python -X dev would print after the one line).
        skip_without('psycopg')
        from audit_alembic.testing import provision
        first = provision.Target('file', make_url(
            'sqlite:///%s' % self.checkout.path('first.db')))
        down = provision.Target('down', make_url(
            'postgresql+psycopg://scott:%s@127.0.0.1:%d/test' % (
                PASSWORD, closed_port())))
        with self.assertRaises(provision.TargetError):
            provision.connect_all([first, down])
        self.assertEqual(first.engine.pool.checkedin(), 0)

    def test_password_in_the_query_string_is_masked(self):
        skip_without('psycopg')
        self.checkout.write_test_cfg(
            '[db]\nq = postgresql+psycopg://scott@h/test?password=%s\n'
            % PASSWORD)
        listing = dbs_listing(self.checkout.root)
        self.assertIn('postgresql+psycopg://scott@h/test?password=***',
                      listing)
        self.assertNotIn(PASSWORD, listing)
        self.assertErrorLine(runner_error(
            '--dburi', 'postgresql+psycopg://scott@127.0.0.1:%d/test?'
            'password=%s' % (closed_port(), PASSWORD)),
            'cannot connect to', 'password=***')

    def test_driver_failing_its_own_way(self):
        skip_without('pymysql')
        self.assertErrorLine(runner_error(
            '--dburi', 'mysql+pymysql://scott:%s@127.0.0.1:%d/test?'
            'charset=bogus' % (PASSWORD, closed_port())),
            'cannot connect to')

    def test_rejected_logins(self):
        skip_without('psycopg', 'pymysql')
        cases = [
            (5432, 'postgresql+psycopg://nobody_here:%s@127.0.0.1:5432/test'
             % PASSWORD, 'role "nobody_here" does not exist'),
            (3306, 'mysql+pymysql://scott:%s@127.0.0.1:3306/test' % PASSWORD,
             "Access denied for user 'scott'"),
        ]
        for port, url, reason in cases:
            with self.subTest(url=url):
                if not server_answers(port):
                    self.skipTest('no server on port %d' % port)
                self.assertErrorLine(runner_error('--dburi', url), reason)


class AllTargetsTest(CheckoutTestCase):
    def test_all_targets_connects_every_target(self):
        # test_isolation.FileTargetTest's run shows that without
        # --all-targets nose leaves the second target alone.  This run is
        # also the check that nose2 prints an unreachable server as its
        # one line.
        skip_without('psycopg')
        self.checkout.write_test_cfg(
            '[db]\nfile = sqlite:///%s\ndown = postgresql+psycopg://scott:'
            '%s@127.0.0.1:%d/test\n' % (self.checkout.path('first.db'),
                                        PASSWORD, closed_port()))
        message = runner_error('--db', 'down', root=self.checkout.root)
        self.assertErrorLine(message, 'cannot connect to')
        self.assertOneLineError(self.checkout.nose(
            '--db', 'file', '--db', 'down', '--all-targets', SAMPLE),
            'sqla_nose.py: error: ' + message)
