"""Errors: one line on stderr, exit status 2 (as for usage errors: the
command could not check), no traceback, no password."""
import importlib.util
import os
import tempfile
import time
from unittest import mock

from audit_alembic import engines as database
from audit_alembic.testing.fixtures import SilentServer

from test.cli.support import CLITestCase
from test.cli.support import unreachable_url


class DatabaseErrorTest(CLITestCase):
    def test_unreachable_server(self):
        url = unreachable_url()
        if url is None:
            self.skipTest('needs psycopg or PyMySQL')
        result = self.cli('history', '--url', url)
        self.assertFails(result, 'cannot connect to',
                         url.replace('sekrit', '***'), hidden=['sekrit'])

    def test_silent_server_fails_within_the_timeout(self):
        if importlib.util.find_spec('pymysql') is None:
            self.skipTest('needs PyMySQL')
        self.assertEqual(database.CONNECT_TIMEOUT, 10)  # as documented
        # The same code path with a shorter timeout, to keep the suite fast.
        with SilentServer() as port, \
                mock.patch.object(database, 'CONNECT_TIMEOUT', 1):
            started = time.monotonic()
            result = self.main('history', '--url',
                               'mysql+pymysql://scott:sekrit@127.0.0.1:%d/t'
                               % port)
            elapsed = time.monotonic() - started
        self.assertGreaterEqual(elapsed, 1)
        self.assertLess(elapsed, 10)
        self.assertFails(result, 'no answer within 1 second',
                         hidden=['sekrit'])

    def test_password_in_the_query_string_is_masked(self):
        url = unreachable_url()
        if url is None:
            self.skipTest('needs psycopg or PyMySQL')
        url = url.replace('scott:sekrit@', 'scott@') + '?password=sekrit'
        self.assertFails(self.main('history', '--url', url),
                         'cannot connect to', 'password=***',
                         hidden=['sekrit'])

    def test_missing_sqlite_file_is_not_created(self):
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, 'missing.db')
            self.assertFails(self.main('history', '--url',
                                       'sqlite:///' + path),
                             'cannot connect to', path)
            self.assertFalse(os.path.exists(path))

    def test_malformed_urls(self):
        bad_port, not_a_url, unknown = self.main_many(*[
            ['history', '--url', url] for url in (
                'postgresql+psycopg://scott:sekrit@localhost:port/test',
                'not a url',
                'nosuchdb://scott:sekrit@localhost/test')])
        self.assertFails(bad_port, 'malformed URL', '--url',
                         hidden=['sekrit'])
        self.assertFails(not_a_url, 'malformed URL', "'not a url'")
        self.assertFails(unknown, "unknown database dialect 'nosuchdb'",
                         hidden=['sekrit'])


class UsageErrorTest(CLITestCase):
    def test_usage_errors_exit_2(self):
        results = self.main_many(
            [],
            ['history', '--last', '0'],
            ['history', '--since', 'yesterday'],
            ['history', '--url', 'sqlite://', '-c', 'alembic.ini'],
            ['demo', '--unknown'])
        for result, fragment in zip(results, [
                'required: COMMAND', '--last', 'ISO-8601',
                'not allowed with argument', 'unrecognized arguments']):
            self.assertUsageError(result, fragment)
