"""Passwords of every shape stay hidden: in masked URLs, in ``--dbs``,
in the run header, in SQLAlchemy's INFO logs and in the runner's errors."""
import importlib.util
import re
import unittest
from urllib.parse import quote
from urllib.parse import unquote

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from audit_alembic import masking
from audit_alembic.testing.fixtures import TestBase
from test.runner.support import CheckoutTestMixin
from test.runner.support import closed_port
from test.runner.support import dbs_listing
from test.runner.support import runner_error

SAMPLE = 'test.runner.sample'

#: Passwords as written in a URL.  Each piece between the separators is
#: distinctive, so that any piece that shows is a leak.
WRITTEN_PASSWORDS = [
    'Tq7@Wk4:Xr9',           # @ and : as is: SQLAlchemy cannot read it
    'Tq7@Wk4@Xr9',           # @ as is: the tail would be taken for the host
    'Tq7@Wk4/Xr9',           # ... or for the database
    'Tq7@Wk4?Xr9',           # ... or for the query
    'Tq7:Wk4/Xr9',           # : and / as is: read correctly
    'Tq7%40Wk4%3AXr9%2FYv2',  # %-encoded @, : and /
    'Tq7%25Wk4',             # %-encoded %
    'Tq7\u00e4\u00f6Wk4\u20acXr9',           # non-ASCII as is
    'Tq7%C3%A4Wk4%E2%82%ACXr9',              # non-ASCII %-encoded
]
#: A password with every awkward character, as the server is given it.
PASSWORD = 'Tq7@Wk4:Xr9/Yv2%Zu5 \u00e4\u20ac'


def secret_pieces(written):
    """Every piece of a written password that must not show."""
    pieces = {written, unquote(written), quote(unquote(written), safe='')}
    for text in list(pieces):
        pieces.update(re.split(r'[@:/?%]', text))
    return sorted(piece for piece in pieces if len(piece) >= 3)


def url_with_password(written, host='db.example', port=5432):
    return 'postgresql+psycopg://scott:%s@%s:%d/test' % (written, host, port)


class MaskingTestMixin:
    def assertHidden(self, text, written):
        for piece in secret_pieces(written):
            self.assertNotIn(piece, text)

    def assertRunHides(self, result, written, code=0):
        self.assertEqual(result.returncode, code, result.output)
        self.assertNotIn('Traceback', result.output)
        self.assertHidden(result.output, written)


class MaskedTest(MaskingTestMixin, unittest.TestCase):
    def test_every_shape_of_password_is_hidden(self):
        for written in WRITTEN_PASSWORDS:
            text = url_with_password(written)
            with self.subTest(url=text):
                shown = masking.masked(text)
                self.assertHidden(shown, written)
                self.assertIn('***', shown)
                self.assertTrue(shown.startswith('postgresql+psycopg://'),
                                shown)
                self.assertIn('5432/test', shown)

    def test_url_objects_too(self):
        for written in WRITTEN_PASSWORDS:
            text = url_with_password(written)
            if masking.password_holds_at(text):
                continue  # refused before it becomes a URL object
            with self.subTest(url=written):
                self.assertHidden(masking.masked(make_url(text)), written)

    def test_url_objects_with_part_of_the_password_elsewhere(self):
        for written in ('Tq7@Wk4@Xr9', 'Tq7@Wk4/Xr9'):
            with self.subTest(url=written):
                url = make_url(url_with_password(written))
                self.assertHidden(masking.masked(url), written)

    def test_a_password_read_correctly_keeps_the_rest(self):
        self.assertEqual(
            masking.masked(url_with_password('Tq7%40Wk4%3AXr9')),
            'postgresql+psycopg://scott:***@db.example:5432/test')
        self.assertEqual(
            masking.masked(url_with_password('Tq7:Wk4/Xr9')),
            'postgresql+psycopg://scott:***@db.example:5432/test')

    def test_a_url_that_cannot_be_read(self):
        # Everything between :// and the last @ goes.
        self.assertEqual(
            masking.masked(url_with_password('Tq7@Wk4:Xr9')),
            'postgresql+psycopg://***@db.example:5432/test')
        # No @: a port that is no number may be the password.
        self.assertEqual(masking.masked('postgresql://scott:Tq7Wk4/test'),
                         'postgresql://scott:***/test')
        self.assertEqual(masking.masked('not a url'), 'not a url')

    def test_query_string_passwords(self):
        for key in ('password', 'PWD', 'passwd', 'sslpassword'):
            for written in ('Tq7%40Wk4', 'Tq7@Wk4', 'Tq7\u00e4Wk4'):
                text = 'postgresql+psycopg://scott@h/test?%s=%s&x=1' % (
                    key, written)
                with self.subTest(url=text):
                    shown = masking.masked(text)
                    self.assertHidden(shown, written)
                    self.assertIn('***', shown)

    def test_free_text(self):
        for written in WRITTEN_PASSWORDS:
            line = 'line 3: cannot parse sqlalchemy.url = %s' % (
                url_with_password(written))
            with self.subTest(line=line):
                shown = masking.hide_passwords(line)
                self.assertHidden(shown, written)
                self.assertTrue(shown.startswith(
                    'line 3: cannot parse sqlalchemy.url = '
                    'postgresql+psycopg://'), shown)

    def test_secrets_of_a_url_in_driver_messages(self):
        url = make_url(url_with_password(quote(PASSWORD, safe='')))
        self.assertEqual(url.password, PASSWORD)
        for shown in (PASSWORD, quote(PASSWORD, safe=''),
                      quote(PASSWORD, safe=' +')):
            self.assertEqual(
                masking.hide_secrets('FATAL: bad password %s for scott'
                                     % shown, url),
                'FATAL: bad password *** for scott')

    def test_short_passwords_only_where_they_stand(self):
        url = make_url('postgresql+psycopg://scott:e@db.example/test')
        for message, expected in (
                ('RuntimeError: deleted the table',
                 'RuntimeError: deleted the table'),
                ('cannot reach postgresql://scott:e@db.example/test, '
                 'password=e',
                 'cannot reach postgresql://***@db.example/test, '
                 'password=***')):
            with self.subTest(message=message):
                self.assertEqual(masking.hide_secrets(message, url),
                                 expected)
        # Four characters are enough to be hidden wherever they show.
        self.assertEqual(masking.hide_secrets(
            'FATAL: bad password Tq7W', url.set(password='Tq7W')),
            'FATAL: bad password ***')

    def test_secrets_where_they_stand_in_driver_messages(self):
        url = make_url(url_with_password('Tq7Wk4'))
        for message, expected in (
                ("invalid dsn: password='se cret' host=db",
                 "invalid dsn: password='***' host=db"),
                ('PGPASSWORD=Xr9Yv2 psql', 'PGPASSWORD=*** psql'),
                ("near 'IDENTIFIED BY 'Xr9 Yv2'' at line 1",
                 "near 'IDENTIFIED BY '***'' at line 1"),
                ("LINE 1: ALTER ROLE x PASSWORD 'it''s Xr9' LOGIN",
                 "LINE 1: ALTER ROLE x PASSWORD '***' LOGIN")):
            with self.subTest(message=message):
                self.assertEqual(masking.hide_secrets(message, url),
                                 expected)


class CheckoutTestCase(MaskingTestMixin, CheckoutTestMixin,
                       unittest.TestCase):
    pass


class DbsTest(CheckoutTestCase):
    def test_dbs_hides_every_shape(self):
        aliases = ['[db]']
        for i, written in enumerate(WRITTEN_PASSWORDS):
            aliases.append('odd%d = %s' % (i, url_with_password(written)))
        self.checkout.write_test_cfg('\n'.join(aliases) + '\n')
        # In this process: both runners print this listing as it is.
        listing = dbs_listing(self.checkout.root)
        listed = [line.split() for line in listing.splitlines()
                  if line.split()[:1] and line.split()[0].startswith('odd')]
        self.assertEqual(len(listed), len(WRITTEN_PASSWORDS), listing)
        for written, (name, shown) in zip(WRITTEN_PASSWORDS, listed):
            self.assertHidden(shown, written)
            self.assertTrue(shown.endswith('5432/test'), shown)


class RunnerErrorsTest(MaskingTestMixin, unittest.TestCase):
    """The runner's errors, found in this process (test_targets runs the
    runners to check that they print the message as it is)."""

    def test_urls_that_cannot_be_read(self):
        for written in ('Tq7@Wk4:Xr9', 'Tq7@Wk4@Xr9', 'Tq7@Wk4/Xr9'):
            with self.subTest(password=written):
                message = runner_error('--dburi', url_with_password(written))
                self.assertHidden(message, written)
                self.assertRegex(message, r'^malformed --dburi: '
                                 r"'postgresql\+psycopg://\*\*\*@[^']*'")

    def test_server_that_cannot_be_reached(self):
        if importlib.util.find_spec('psycopg') is None:
            self.skipTest('driver psycopg is not installed')
        port = closed_port()
        for written in ('Tq7:Wk4/Xr9', 'Tq7%40Wk4%3AXr9%2FYv2',
                        'Tq7\u00e4\u00f6Wk4\u20acXr9'):
            with self.subTest(password=written):
                message = runner_error('--dburi', url_with_password(
                    written, '127.0.0.1', port))
                self.assertHidden(message, written)
                self.assertTrue(message.startswith(
                    'cannot connect to postgresql+psycopg://scott:***@'
                    '127.0.0.1:%d/test' % port), message)


class HeaderAndLogsTest(MaskingTestMixin, CheckoutTestMixin, TestBase):
    """A real run on the target's server, with a password of every
    awkward character, shows it nowhere."""

    __backend__ = True

    def hostile_url(self):
        url = self.file_database_url()
        if url.get_backend_name() == 'sqlite':
            self.skipTest('SQLite URLs have no password')
        url = url.set(password=PASSWORD)
        engine = create_engine(url)
        try:
            engine.connect().close()
        except (DBAPIError, UnicodeError):  # PyMySQL sends latin-1 only
            self.skipTest('the server (or its driver) takes no such password '
                          'for this user: %s' % masking.masked(url))
        finally:
            engine.dispose()
        return url

    def test_header_and_info_logs(self):
        url = self.hostile_url()
        written = url.render_as_string(hide_password=False).split(
            'scott:', 1)[1].split('@')[0]
        self.assertEqual(unquote(written), PASSWORD)
        text = url.render_as_string(hide_password=False)
        logs = ['--log-info=sqlalchemy.engine', '--log-info=sqlalchemy.pool',
                '--log-info=audit_alembic']
        for result in (
                self.checkout.nose('-v', '--dburi', text, SAMPLE, *logs),
                self.checkout.pytest('-v', '-s', '--dburi', text,
                                     'test/runner/sample', *logs)):
            self.assertRunHides(result, written)
            self.assertHidden(result.output, PASSWORD)
            self.assertIn(masking.masked(url), result.output)
            self.assertIn('scott:***@', result.output)
            self.assertIn('INFO sqlalchemy.engine', result.output)
