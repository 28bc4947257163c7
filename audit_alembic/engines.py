"""Opening a database with care: the driver checked first, a timeout for a
silent server, and every failure a one-line
:class:`~audit_alembic.exc.CommandError` with passwords masked.

Used by the command line and the test runner alike; the URLs come from
them.  SQLAlchemy is imported inside the functions.
"""
import contextlib
import os
import threading
from typing import TYPE_CHECKING
from typing import Any
from typing import Iterator
from typing import Optional
from typing import Union

from . import compat
from . import dialects
from .errors import describe_error
from .exc import CommandError
from .masking import masked

if TYPE_CHECKING:
    from sqlalchemy.engine import URL
    from sqlalchemy.engine import Connection
    from sqlalchemy.engine import Engine

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


def create_engine(url: 'URL', **kw: Any) -> 'Engine':
    """An engine for ``url`` that gives up on a silent server in time.

    :raise CommandError: if the dialect is unknown or its driver missing.
    """
    import sqlalchemy
    driver = require_driver(url)
    timeout_argument = TIMEOUT_ARGUMENTS.get(driver)
    if timeout_argument and timeout_argument not in url.query:
        kw.setdefault('connect_args', {})[timeout_argument] = CONNECT_TIMEOUT
    return sqlalchemy.create_engine(url, **kw)


def require_driver(url: 'URL') -> str:
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


def check_sqlite_file(url: 'URL') -> None:
    """Refuse a SQLite database file that does not exist.

    SQLite would silently create an empty one.
    """
    name = dialects.sqlite_file(url)
    if name is not None and not os.path.isfile(name):
        raise CommandError('cannot connect to %s: no such database file %s'
                           % (masked(url), show_path(name)))


@contextlib.contextmanager
def connect(url: 'URL',
            must_exist: bool = True) -> Iterator['Connection']:
    """Connect to ``url``; yield the connection, then close it.

    Database errors raised while connecting, or inside the ``with``
    block, become a :class:`CommandError`.  Unless ``must_exist`` is
    false, a SQLite file is not created where there is none.  Text SQLite
    cannot decode reads as its bytes (:func:`read_text_as_stored`).
    """
    from sqlalchemy import exc
    if must_exist:
        check_sqlite_file(url)
    engine = create_engine(url)
    read_text_as_stored(engine)
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


def read_text_as_stored(engine: 'Engine') -> None:
    """Have ``engine``'s pysqlite connections return text that SQLite
    cannot decode as its stored bytes instead of failing on it, so that
    the commands show and hash it as stored (see :mod:`.stored`)."""
    if dialects.server(engine.dialect).text_may_not_decode and \
            engine.dialect.driver == 'pysqlite':
        from sqlalchemy import event
        event.listen(engine, 'connect', _set_text_factory)


def _set_text_factory(dbapi_connection: Any, connection_record: Any) -> None:
    dbapi_connection.text_factory = text_or_bytes


def text_or_bytes(data: bytes) -> Union[str, bytes]:
    """``data`` decoded from UTF-8; ``data`` itself where it is not
    UTF-8."""
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError:
        return data


def wait_for_server(engine: 'Engine',
                    timeout: Optional[float] = None) -> None:
    """Connect once, giving up after ``timeout`` seconds (by default
    :data:`CONNECT_TIMEOUT`) whatever the driver does (some time only the
    opening of the socket).

    :raise CommandError: if the database does not answer, or refuses.
    """
    if timeout is None:
        timeout = CONNECT_TIMEOUT
    url = engine.url
    outcome: list[Optional[Exception]] = []

    def attempt() -> None:
        try:
            engine.connect().close()
            outcome.append(None)
        except Exception as err:  # drivers raise more than DBAPIError
            outcome.append(err)
    if not dialects.has_a_server(url):
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


def show_path(path: str) -> str:
    """``path`` as messages show it: relative ones from ``./``."""
    return os.path.normpath(path) if os.path.isabs(path) else \
        os.path.join(os.curdir, os.path.normpath(path))
