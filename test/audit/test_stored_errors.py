"""What ``error`` keeps of a failed attempt: the exception's class and
the driver's message; never a secret, a statement's bound parameters, or
a message garbled by a short database password."""
import sqlite3
import unittest

from sqlalchemy import create_engine
from sqlalchemy import exc
from sqlalchemy.engine import make_url

from audit_alembic.errors import describe_failure
from audit_alembic.testing.fixtures import Rev
from audit_alembic.testing.fixtures import ScratchEnvironment
from test.audit.test_details import DetailsTestBase
from test.audit.test_details import details_auditor

SECRET = 'Sup3rS3cret'
TOKEN = 'tok-123'
#: What SQLAlchemy appends to a StatementError's message.
SECTIONS = ('[SQL', '[parameters', 'Background on this error', 'sqlalche.me')


def dbapi_error(cls, message, statement='SELECT 1', params=None):
    """SQLAlchemy error ``cls`` wrapping a driver's error with
    ``message``, as SQLAlchemy raises it."""
    return cls(statement, params, sqlite3.OperationalError(message))


def driver_error(message, **kw):
    return dbapi_error(exc.ProgrammingError, message, **kw)


#: The driver's error as stored: sqlite3's, or pysqlite3's standing in
#: for it where Python lacks sqlite3.
SQLITE_ERROR = '(%s.OperationalError)' % sqlite3.OperationalError.__module__
DRIVER = 'sqlalchemy.exc.ProgrammingError: %s ' % SQLITE_ERROR


class DescribeFailureTest(unittest.TestCase):
    def assertDescribed(self, error, expected, url=None):
        described = describe_failure(error, url)
        self.assertEqual(described, expected)
        for piece in (SECRET, 'S3cret', 'se cret', TOKEN) + SECTIONS:
            self.assertNotIn(piece, described)

    def test_database_error_keeps_the_driver_message_only(self):
        error = driver_error('permission denied to create role',
                             statement="CREATE ROLE aa_x LOGIN PASSWORD '%s'"
                             % SECRET)
        self.assertIn(SECRET, str(error))
        self.assertDescribed(error,
                             DRIVER + 'permission denied to create role')

    def test_bound_parameters_are_never_stored(self):
        for params in ({'t': TOKEN}, (TOKEN,),
                       [{'t': TOKEN}, {'t': 'tok-456'}]):
            with self.subTest(params=params):
                error = dbapi_error(
                    exc.OperationalError, 'no such table: nosuch',
                    statement='SELECT * FROM nosuch WHERE token = ?',
                    params=params)
                self.assertIn('[parameters: ', str(error))
                self.assertDescribed(
                    error, 'sqlalchemy.exc.OperationalError: %s no such '
                    'table: nosuch' % SQLITE_ERROR)

    def test_parameters_the_driver_quotes_are_hidden(self):
        # PostgreSQL and MariaDB (SIGNAL) shapes; a one-letter parameter
        # hides nothing else.
        for message, expected in (
                ('invalid input syntax for type integer: "tok-123"\n'
                 'DETAIL:  Key (token)=(tok-123) already exists.',
                 'invalid input syntax for type integer: "***"\n'
                 'DETAIL:  Key (token)=(***) already exists.'),
                ("(1644, 'tok-123')", "(1644, '***')")):
            with self.subTest(message=message):
                self.assertDescribed(
                    driver_error(message, params={'t': TOKEN, 'e': 'e'}),
                    DRIVER + expected)

    def test_statement_error_without_a_driver_error(self):
        error = exc.StatementError(
            "A value is required for bind parameter 't'",
            "ALTER ROLE aa_x PASSWORD '%s' WHERE x = :t" % SECRET,
            {'u': TOKEN}, None)
        self.assertDescribed(
            error, "sqlalchemy.exc.StatementError: A value is required for "
            "bind parameter 't'")

    def test_sqlalchemy_sections_quoted_in_another_message(self):
        error = RuntimeError('step 3 failed: %s' % dbapi_error(
            exc.OperationalError, 'no such table: nosuch',
            statement="SELECT * FROM nosuch WHERE pw = '%s'" % SECRET,
            params={'t': TOKEN}))
        self.assertDescribed(error, 'RuntimeError: step 3 failed: %s no '
                             'such table: nosuch' % SQLITE_ERROR)

    def test_sql_password_clauses(self):
        for message, expected in (
                ("CREATE ROLE x LOGIN PASSWORD 'Sup3rS3cret'",
                 "CREATE ROLE x LOGIN PASSWORD '***'"),
                ('CREATE ROLE x PASSWORD "Sup3r S3cret" LOGIN',
                 'CREATE ROLE x PASSWORD "***" LOGIN'),
                ("ALTER ROLE x ENCRYPTED PASSWORD 'it''s S3cret' VALID "
                 "UNTIL 'infinity'",
                 "ALTER ROLE x ENCRYPTED PASSWORD '***' VALID UNTIL "
                 "'infinity'"),
                ("ALTER ROLE x PASSWORD E'it\\'s S3cret' LOGIN",
                 "ALTER ROLE x PASSWORD E'***' LOGIN"),
                ("ALTER ROLE x PASSWORD $$se cret$$ LOGIN",
                 "ALTER ROLE x PASSWORD $$***$$ LOGIN"),
                ("CREATE USER x IDENTIFIED BY 'Sup3r S3cret'",
                 "CREATE USER x IDENTIFIED BY '***'"),
                ('CREATE USER x IDENTIFIED BY "say \\"S3cret\\"" LOCK',
                 'CREATE USER x IDENTIFIED BY "***" LOCK'),
                ("CREATE USER x IDENTIFIED BY 'it\\'s S3cret', y",
                 "CREATE USER x IDENTIFIED BY '***', y"),
                ("CREATE USER x IDENTIFIED BY PASSWORD '*S3cret0123'",
                 "CREATE USER x IDENTIFIED BY PASSWORD '***'"),
                ("CREATE USER x IDENTIFIED WITH mysql_native_password BY "
                 "'se cret'",
                 "CREATE USER x IDENTIFIED WITH mysql_native_password BY "
                 "'***'"),
                ("CREATE USER x IDENTIFIED VIA ed25519 USING "
                 "PASSWORD('se cret')",
                 "CREATE USER x IDENTIFIED VIA ed25519 USING "
                 "PASSWORD('***')"),
                ("SET PASSWORD FOR 'x'@'%' = PASSWORD('se cret')",
                 "SET PASSWORD FOR 'x'@'%' = PASSWORD('***')"),
                ("SET PASSWORD FOR x = 'se cret'",
                 "SET PASSWORD FOR x = '***'"),
                ('CREATE USER x IDENTIFIED BY S3cret DEFAULT TABLESPACE t',
                 'CREATE USER x IDENTIFIED BY *** DEFAULT TABLESPACE t'),
                # PostgreSQL's LINE echo; MariaDB's "near" quotes the
                # literal in quotes; a literal cut short.
                ("syntax error\nLINE 1: CREATE ROLE x PASSWORD "
                 "'Sup3rS3cret' NOSUCH\n                    ^",
                 "syntax error\nLINE 1: CREATE ROLE x PASSWORD '***' "
                 "NOSUCH\n                    ^"),
                ("(1064, \"... near 'LOGIN PASSWORD 'Sup3rS3cret'' at "
                 "line 1\")",
                 "(1064, \"... near 'LOGIN PASSWORD '***'' at line 1\")"),
                ("LINE 1: ...x PASSWORD 'Sup3rS3cr",
                 "LINE 1: ...x PASSWORD '***")):
            with self.subTest(message=message):
                self.assertDescribed(RuntimeError(message),
                                     'RuntimeError: ' + expected)
                self.assertDescribed(driver_error(message),
                                     DRIVER + expected)

    def test_secret_settings(self):
        for message, expected in (
                ("password='se cret' host=db", "password='***' host=db"),
                ('password="se cret" host=db', 'password="***" host=db'),
                ('password = S3cret, user = x', 'password = ***, user = x'),
                ('PGPASSWORD=Sup3rS3cret psql', 'PGPASSWORD=*** psql'),
                ("PGPASSWORD='it'\\''s se cret' psql",
                 "PGPASSWORD='***' psql"),
                ('passwd: S3cret (next)', 'passwd: *** (next)'),
                ('PWD=S3cret', 'PWD=***'),
                ('secret: "se cret"', 'secret: "***"'),
                ('access_token=tok-123&x=1', 'access_token=***'),
                ("{'user': 'scott', 'password': 'se cret', 'token': "
                 "'tok-123'}",
                 "{'user': 'scott', 'password': '***', 'token': '***'}"),
                ('{"api_key": "se cret", "client_secret": "S3cret"}',
                 '{"api_key": "***", "client_secret": "***"}'),
                ('X-Api-Key: S3cret', 'X-Api-Key: ***'),
                ('cannot reach postgresql://scott:se cret@db/app?x=1',
                 'cannot reach postgresql://***@db/app?x=1'),
                # Kept as they are.
                ("Access denied for user 'scott'@'localhost' (using "
                 "password: YES)",
                 "Access denied for user 'scott'@'localhost' (using "
                 "password: YES)"),
                ('password authentication failed for user "scott"',
                 'password authentication failed for user "scott"')):
            with self.subTest(message=message):
                self.assertDescribed(RuntimeError(message),
                                     'RuntimeError: ' + expected)
                self.assertDescribed(driver_error(message),
                                     DRIVER + expected)

    def test_database_password_hidden_only_where_it_stands(self):
        url = make_url('postgresql+psycopg://scott:e@db/app')
        for message, expected in (
                ('deleted the table', 'deleted the table'),
                ('cannot reach postgresql://scott:e@db/app as user e',
                 'cannot reach postgresql://***@db/app as user e'),
                ("password=e PASSWORD 'e' IDENTIFIED BY e",
                 "password=*** PASSWORD '***' IDENTIFIED BY ***")):
            with self.subTest(message=message):
                self.assertDescribed(RuntimeError(message),
                                     'RuntimeError: ' + expected, url)
        # The password's spaces do not end a bare value of it.
        self.assertDescribed(
            RuntimeError('conninfo password=se cret host=db'),
            'RuntimeError: conninfo password=*** host=db',
            url.set(password='se cret'))


class StoredErrorTest(DetailsTestBase):
    """A real failed migration on each database stores the driver's
    message without the secrets of its statement."""

    @property
    def backend(self):
        return {'mariadb': 'mysql'}.get(self.dialect_name, self.dialect_name)

    def failed_row(self, upgrade, error=exc.DBAPIError, url=None):
        revisions = [Rev('A', upgrade=upgrade, downgrade='pass')]
        if url is None:
            env = self.details_env(revisions)
        else:
            # Connects as the target does; the auditor sees ``url``.
            engine = create_engine(self.file_database_url())
            self.addCleanup(engine.dispose)
            engine.url = url
            env = ScratchEnvironment(engine, revisions,
                                     auditor=details_auditor())
            self.addCleanup(env.close)
        with self.assertRaises(error) as raised:
            env.run('upgrade', 'head')
        row, = env.history()
        self.assertEqual(row['status'], 'failed')
        for piece in (SECRET, TOKEN) + SECTIONS:
            self.assertNotIn(piece, row['error'])
        return raised.exception, row['error']

    def test_password_clause_of_a_failed_statement(self):
        # Never runs: unknown option (PostgreSQL), syntax error elsewhere.
        statement = "CREATE ROLE aa_x LOGIN PASSWORD '%s' NOSUCHOPTION" % (
            SECRET)
        raised, stored = self.failed_row('op.execute(%r)' % statement)
        self.assertIn(SECRET, str(raised))
        self.assertTrue(stored.startswith('sqlalchemy.exc.'), stored)
        driver_message = {
            'postgresql': ['(psycopg.errors.SyntaxError) unrecognized role '
                           'option "nosuchoption"', "PASSWORD '***'"],
            'mysql': ['(pymysql.err.ProgrammingError) (1064, "You have an '
                      'error in your SQL syntax', "PASSWORD '***'"],
            'sqlite': [SQLITE_ERROR + ' near "ROLE": syntax error'],
        }.get(self.backend, [])
        for piece in driver_message:
            self.assertIn(piece, stored)

    def test_bound_parameters_of_a_failed_statement(self):
        raised, stored = self.failed_row(
            'op.execute(sa.text("SELECT * FROM aa_no_such_table WHERE token '
            '= :t").bindparams(t=%r))' % TOKEN)
        self.assertIn(TOKEN, str(raised))
        self.assertIn('aa_no_such_table', stored)
        self.assertRegex(stored, 'does not exist|doesn.t exist|no such table')

    def test_parameter_quoted_by_the_driver(self):
        statement = {
            'postgresql': 'SELECT CAST(:t AS INTEGER)',
            'mysql': "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = :t",
        }.get(self.backend)
        if statement is None:
            self.skipTest('no error of %s quotes a parameter' % self.backend)
        raised, stored = self.failed_row(
            'op.execute(sa.text(%r).bindparams(t=%r))' % (statement, TOKEN))
        self.assertIn(TOKEN, str(raised.orig))
        self.assertIn({'postgresql': 'invalid input syntax for type '
                       'integer: "***"',
                       'mysql': "(1644, '***')"}[self.backend], stored)

    def test_short_database_password_garbles_nothing(self):
        url = make_url(self.file_database_url()).set(
            username='scott', password='e')
        raised, stored = self.failed_row(
            'raise RuntimeError("deleted the table, see '
            'postgresql://scott:e@db/app")', error=RuntimeError, url=url)
        self.assertEqual(stored, 'RuntimeError: deleted the table, see '
                         'postgresql://***@db/app')
