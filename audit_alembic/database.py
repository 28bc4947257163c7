"""Finding and opening the database the command line works on.

The URL comes from the command line or from ``sqlalchemy.url`` of an
Alembic config file.  Every failure becomes a one-line
:class:`~audit_alembic.exc.CommandError` whose URLs have their password
masked.
"""
import configparser
import contextlib
import os
import pathlib
import re
import threading

from . import compat
from .exc import CommandError
from .masking import hide_passwords
from .masking import hide_secrets
from .masking import masked
from .masking import password_holds_at

#: Seconds to wait for a database server before giving up.
CONNECT_TIMEOUT = 10
#: The ``connect()`` keyword each DBAPI driver takes for that timeout.
TIMEOUT_ARGUMENTS = {
    'psycopg': 'connect_timeout',
    'psycopg2': 'connect_timeout',
    'pymysql': 'connect_timeout',
    'mysqldb': 'connect_timeout',
    'pg8000': 'timeout',
}
#: pip requirement providing each DBAPI driver SQLAlchemy may ask for.
DRIVER_PACKAGES = {
    'psycopg': 'psycopg[binary]',
    'psycopg2': 'psycopg2-binary',
    'pg8000': 'pg8000',
    'pysqlite': compat.PYSQLITE3_PACKAGE,
    'asyncpg': 'asyncpg',
    'pymysql': 'PyMySQL',
    'mysqldb': 'mysqlclient',
    'mysqlconnector': 'mysql-connector-python',
    'mariadbconnector': 'mariadb',
    'oracledb': 'oracledb',
    'pyodbc': 'pyodbc',
    'pymssql': 'pymssql',
}
URL_EXAMPLES = ('e.g. sqlite:///app.db or '
                'postgresql+psycopg://user:password@host/dbname')


def parse_url(text, source):
    """The SQLAlchemy URL in ``text``; ``source`` says where it came from.

    :raise CommandError: if it is not a URL.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError
    text = text.strip()
    if password_holds_at(text):
        raise CommandError(
            'malformed URL %r in %s: an @ follows its password; write an '
            "@ in a user name, password or query value as %%40"
            % (masked(text), source))
    try:
        return make_url(text)
    except (ArgumentError, ValueError) as err:
        # The message of a ValueError may quote the password.
        reason = (' (the port is not a number)' if str(err).startswith(
            'invalid literal for int()') else '')
        raise CommandError('malformed URL %r in %s%s; expected a SQLAlchemy '
                           'URL, %s' % (masked(text), source, reason,
                                        URL_EXAMPLES)) from None


def url_from_config(path, section):
    """``sqlalchemy.url`` of section ``section`` of Alembic config ``path``.

    Read the way Alembic reads it, with ``%(here)s`` standing for the
    file's directory.

    :raise CommandError: if the file, the section or the option is
        missing or unreadable.
    """
    if not os.path.isfile(path):
        raise CommandError(
            'no Alembic config file %s; pass -c FILE, or --url URL'
            % _show_path(path))
    here = pathlib.Path(path).absolute().parent.as_posix()
    parser = configparser.ConfigParser({'here': here})
    try:
        parser.read(path, encoding='utf-8')
        if not parser.has_section(section):
            raise CommandError(
                '%s has no [%s] section; name the section with -n NAME'
                % (_show_path(path), section))
        raw = parser.get(section, 'sqlalchemy.url', fallback='').strip()
    except configparser.InterpolationError as err:
        # Its message quotes the value, which may hold a password.
        raise CommandError(
            'cannot read %s: bad %%-interpolation in option %s of [%s] '
            '(write a literal %% as %%%%)'
            % (_show_path(path), err.option, err.section)) from None
    except (configparser.Error, UnicodeDecodeError) as err:
        raise CommandError('cannot read %s: %s' % (
            _show_path(path), config_problem(err))) from None
    if not raw:
        raise CommandError(
            '%s has no sqlalchemy.url in its [%s] section; add one, or pass '
            '--url URL' % (_show_path(path), section))
    return parse_url(raw, 'sqlalchemy.url of %s' % _show_path(path))


def create_engine(url, **kw):
    """An engine for ``url`` that gives up on a silent server in time.

    :raise CommandError: if the dialect is unknown or its driver missing.
    """
    import sqlalchemy
    driver = require_driver(url)
    timeout_argument = TIMEOUT_ARGUMENTS.get(driver)
    if timeout_argument and timeout_argument not in url.query:
        kw.setdefault('connect_args', {})[timeout_argument] = CONNECT_TIMEOUT
    return sqlalchemy.create_engine(url, **kw)


def require_driver(url):
    """Check that ``url``'s dialect and driver can be loaded (standing
    pysqlite3 in for a missing sqlite3); return the driver's name.

    :raise CommandError: if the dialect is unknown or its driver missing.
    """
    from sqlalchemy.exc import NoSuchModuleError
    try:
        dialect = url.get_dialect()
    except NoSuchModuleError:
        raise CommandError('unknown database dialect %r in %s; expected a '
                           'SQLAlchemy URL, %s'
                           % (url.drivername, masked(url), URL_EXAMPLES)
                           ) from None
    driver = url.get_driver_name() or dialect.driver
    if driver == 'pysqlite':
        compat.ensure_sqlite3()
    try:
        dialect.import_dbapi()
    except ImportError as err:
        package = DRIVER_PACKAGES.get(driver, err.name or driver)
        raise CommandError("%s needs the %s driver, which is not installed: "
                           "pip install '%s'" % (masked(url), driver, package)
                           ) from None
    return driver


def check_sqlite_file(url):
    """Refuse a SQLite database file that does not exist.

    SQLite would silently create an empty one.
    """
    if url.get_backend_name() != 'sqlite':
        return
    name = url.database
    if not name or name == ':memory:' or name.startswith('file:') or \
            url.query.get('mode') == 'memory':
        return
    if not os.path.isfile(name):
        raise CommandError('cannot connect to %s: no such database file %s'
                           % (masked(url), _show_path(name)))


@contextlib.contextmanager
def connect(url, must_exist=True):
    """Connect to ``url``; yield the connection, then close it.

    Database errors raised while connecting, or inside the ``with``
    block, become a :class:`CommandError`.  Unless ``must_exist`` is
    false, a SQLite file is not created where there is none.
    """
    from sqlalchemy import exc
    if must_exist:
        check_sqlite_file(url)
    engine = create_engine(url)
    try:
        wait_for_server(engine)
        with engine.connect() as connection:
            try:
                yield connection
            except exc.DBAPIError as err:
                raise CommandError('database error on %s: %s' % (
                    masked(url), describe_error(err, url))) from None
    finally:
        engine.dispose()


def wait_for_server(engine, timeout=None):
    """Connect once, giving up after ``timeout`` seconds (by default
    :data:`CONNECT_TIMEOUT`) whatever the driver does (some time only the
    opening of the socket).

    :raise CommandError: if the database does not answer, or refuses.
    """
    if timeout is None:
        timeout = CONNECT_TIMEOUT
    url = engine.url
    outcome = []

    def attempt():
        try:
            engine.connect().close()
            outcome.append(None)
        except Exception as err:  # drivers raise more than DBAPIError
            outcome.append(err)
    if url.get_backend_name() == 'sqlite':
        attempt()  # a file: nothing to wait for, and threads see other DBs
    else:
        thread = threading.Thread(target=attempt, daemon=True)
        thread.start()
        thread.join(timeout)
    if not outcome:
        raise CommandError('cannot connect to %s: no answer within %d '
                           'second%s' % (masked(url), timeout,
                                         '' if timeout == 1 else 's'))
    if outcome[0] is not None:
        raise CommandError('cannot connect to %s: %s' % (
            masked(url), describe_error(outcome[0], url)))


def describe_error(err, url):
    """The driver's message for ``err`` on one line, passwords hidden."""
    return hide_secrets(_one_line(getattr(err, 'orig', None) or err), url)


def _one_line(err):
    return ' '.join(line.strip() for line in str(err).splitlines()
                    if line.strip())


def _show_path(path):
    return os.path.normpath(path) if os.path.isabs(path) else \
        os.path.join(os.curdir, os.path.normpath(path))


def config_problem(err):
    """A :mod:`configparser` error in one line: the line number and what
    is wrong there, passwords hidden."""
    if isinstance(err, configparser.MissingSectionHeaderError):
        return hide_passwords('line %d: no [section] header before %s' % (
            err.lineno, err.line.strip()))
    if isinstance(err, configparser.ParsingError) and err.errors:
        lineno, line = err.errors[0]
        return hide_passwords(
            'line %d: cannot parse %s' % (lineno, line.strip()))
    message = re.sub(r"^While reading from .*?\[line\s+(\d+)\]: ",
                     r'line \1: ', _one_line(err))
    return hide_passwords(message)
