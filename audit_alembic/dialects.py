"""Every "which server is this" fact the library acts on, in one place.

Each kind of server the library knows something particular of is a
:class:`Server` subclass registered under its dialect names
(:func:`register`); :func:`server` finds the one of a dialect, or of a
dialect name, and a server it does not know gets :class:`Server`'s
defaults.  The functions below answer the questions the other modules
ask, from those facts and from what Alembic says of the migration
context.

SQLAlchemy is imported inside the functions that need it.
"""
from typing import TYPE_CHECKING
from typing import Any
from typing import Callable
from typing import Optional
from typing import TypeVar
from typing import Union

if TYPE_CHECKING:
    from sqlalchemy.engine import URL
    from sqlalchemy.engine import Connection
    from sqlalchemy.engine import Dialect
    from sqlalchemy.sql.elements import ColumnClause
    from sqlalchemy.sql.elements import ColumnElement
    from sqlalchemy.sql.elements import TextClause

#: How the writers of a chained history table take turns (see
#: :class:`.chain.ChainWriter`): a lock a statement takes and the end of
#: the transaction releases (PostgreSQL's ``pg_advisory_xact_lock``) ...
TRANSACTION_LOCK = 'transaction'
#: ... a named lock held by the session until released (MySQL's and
#: MariaDB's ``GET_LOCK``) ...
SESSION_LOCK = 'session'
#: ... or the database's write lock, which any write takes (SQLite).
WRITE_LOCK = 'write'

#: How a connection's statements are made to wait for locks no longer
#: (see :mod:`.waits`): settings of the transaction (PostgreSQL's
#: ``lock_timeout`` and ``statement_timeout``) ...
TRANSACTION_TIMEOUTS = 'transaction_timeouts'
#: ... variables of the session (MySQL's and MariaDB's lock waits and
#: statement time) ...
SESSION_TIMEOUTS = 'session_timeouts'
#: ... or the busy timeout, the write lock taken first (SQLite).
BUSY_TIMEOUT = 'busy_timeout'

#: How the session user is read: ``CURRENT_USER`` as it is ...
CURRENT_USER = 'current_user'
#: ... or the user part of ``CURRENT_USER``'s ``'user@host'`` account.
ACCOUNT_USER = 'account_user'

_servers: dict[str, 'Server'] = {}
_ServerT = TypeVar('_ServerT', bound='Server')


def register(*names: str) -> Callable[[type[_ServerT]], type[_ServerT]]:
    """A class decorator: its instance holds the facts of the dialects
    ``names``."""
    def decorate(cls: type[_ServerT]) -> type[_ServerT]:
        for name in names:
            _servers[name] = cls()
        return cls
    return decorate


class Server:
    """The facts of one kind of server; these defaults are those of a
    server the library knows nothing particular of."""

    #: How writers of the chain take turns (a ``*_LOCK`` above), or None.
    chain_lock: Optional[str] = None
    #: How the session user is read (see above), or None: not at all.
    session_user: Optional[str] = None
    #: SQL giving the current time in UTC, or None: ``CURRENT_TIMESTAMP``.
    utc_now: Optional[str] = None
    #: Whether DDL joins an open transaction although the dialect has no
    #: transactional DDL (so that creating a table commits nothing).
    ddl_joins_the_transaction = False
    #: Whether a failed statement spoils the rest of its transaction.
    failure_spoils_the_transaction = False
    #: Whether a transaction reads a snapshot older than the commits of
    #: other sessions since it began (REPEATABLE READ).
    reads_a_snapshot = False
    #: Whether writers take turns per database file, all tables of a file
    #: under one write lock.
    one_writer_per_file = False
    #: Whether stored text may fail to decode as it is read back.
    text_may_not_decode = False
    #: Whether dates and times are read as text: the drivers fail on some
    #: the server stores (``infinity``, years after 9999).
    times_read_as_text = False
    #: Whether a ``DATETIME`` keeps microseconds only with ``fsp=6``.
    times_need_a_precision = False
    #: Whether the database is a file: no server to wait for.
    is_a_file = False
    #: A statement giving a number that changes whenever another
    #: connection commits to the database, ``{schema}`` standing for the
    #: quoted schema's name; or None, where the server has none.
    commits_by_others: Optional[str] = None
    #: How lock waits are bounded (a ``*_TIMEOUT*`` above), or None.
    wait_bound: Optional[str] = None
    #: Whether its tables, columns and indexes are read in one query of
    #: its catalog (:func:`.catalog.postgresql_query`).
    reads_the_catalog_in_one_query = False
    #: Whether it has ``standard_conforming_strings``, that string
    #: literals may be rendered for.
    has_standard_conforming_strings = False
    #: Whether its ``TEXT`` holds only 64 KB (``LONGTEXT`` holds more).
    text_is_short = False
    #: Whether only an ``INTEGER`` primary key autoincrements.
    autoincrements_only_integer = False

    def creates_index_if_not_exists(self, dialect: 'Dialect') -> bool:
        """Whether ``dialect`` has ``CREATE INDEX IF NOT EXISTS``."""
        return True


@register('postgresql')
class PostgreSQL(Server):
    chain_lock = TRANSACTION_LOCK
    session_user = CURRENT_USER
    utc_now = "(CURRENT_TIMESTAMP AT TIME ZONE 'UTC')"
    failure_spoils_the_transaction = True
    times_read_as_text = True
    wait_bound = TRANSACTION_TIMEOUTS
    reads_the_catalog_in_one_query = True
    has_standard_conforming_strings = True


@register('mysql', 'mariadb')
class MySQL(Server):
    """MySQL and MariaDB (which SQLAlchemy may call ``mysql`` too)."""
    chain_lock = SESSION_LOCK
    session_user = ACCOUNT_USER
    utc_now = 'UTC_TIMESTAMP(6)'
    reads_a_snapshot = True
    times_need_a_precision = True
    wait_bound = SESSION_TIMEOUTS
    text_is_short = True

    def creates_index_if_not_exists(self, dialect: 'Dialect') -> bool:
        # MySQL, unlike MariaDB, has no CREATE INDEX IF NOT EXISTS.
        return is_mariadb(dialect)


@register('sqlite')
class SQLite(Server):
    chain_lock = WRITE_LOCK
    # As SQLAlchemy stores times: to the microsecond (here, the ms).
    utc_now = "strftime('%Y-%m-%d %H:%M:%f000', 'now')"
    ddl_joins_the_transaction = True
    one_writer_per_file = True
    text_may_not_decode = True
    is_a_file = True
    commits_by_others = 'PRAGMA {schema}.data_version'
    wait_bound = BUSY_TIMEOUT
    autoincrements_only_integer = True


@register('mssql')
class SQLServer(Server):
    session_user = CURRENT_USER
    utc_now = 'SYSUTCDATETIME()'


@register('oracle')
class Oracle(Server):
    utc_now = 'SYS_EXTRACT_UTC(SYSTIMESTAMP)'


_unknown = Server()


def server(dialect: Union['Dialect', str]) -> Server:
    """The :class:`Server` of ``dialect`` (a SQLAlchemy dialect or its
    name)."""
    name: Any = getattr(dialect, 'name', dialect)
    return _servers.get(name, _unknown)


def names_with(fact: Callable[[Server], bool]) -> tuple[str, ...]:
    """The dialect names whose :class:`Server` has ``fact``."""
    return tuple(name for name, known in _servers.items() if fact(known))


def commits_by_others(connection: 'Connection',
                      schema: Optional[str]) -> Optional[int]:
    """The number :attr:`Server.commits_by_others` gives for ``schema``
    (None: the default one) on ``connection``, read on the driver's
    connection (it changes nothing); None where the server has none."""
    statement = server(connection.dialect).commits_by_others
    if statement is None:
        return None
    quote = connection.dialect.identifier_preparer.quote_schema
    driver: Any = connection.connection.dbapi_connection
    cursor = driver.cursor()
    try:
        cursor.execute(statement.format(schema=quote(schema or 'main')))
        return int(cursor.fetchone()[0])
    finally:
        cursor.close()


def is_mariadb(dialect: 'Dialect') -> bool:
    """Whether ``dialect`` talks to MariaDB, by name or as SQLAlchemy's
    MySQL dialect found it on connecting."""
    return dialect.name == 'mariadb' or getattr(dialect, 'is_mariadb', False)


def ddl_commits_by_itself(ctx: Any) -> bool:
    """Whether DDL on migration context ``ctx``'s connection would commit
    its transaction: no transactional DDL, and no DDL that joins an open
    transaction (SQLite's does, and there a second connection would wait
    for the first's lock)."""
    return (not ctx.impl.transactional_ddl and
            not server(ctx.dialect).ddl_joins_the_transaction)


def steps_share_a_transaction(ctx: Any) -> bool:
    """Whether Alembic runs all steps of ``ctx`` in one transaction, as it
    does with transactional DDL unless ``transaction_per_migration``."""
    return (ctx.impl.transactional_ddl and
            not ctx.opts.get('transaction_per_migration', False))


def session_user(connection: 'Connection') -> Optional[str]:
    """The database's session user; None where the database has none
    (SQLite) or keeps it to itself."""
    from sqlalchemy import func
    from sqlalchemy import select
    kind = server(connection.dialect).session_user
    if kind is None:
        return None
    user: Optional[str] = connection.scalar(select(func.current_user()))
    if kind == ACCOUNT_USER and user:
        # 'user@host' of the account; its user part is the login.
        return user.rpartition('@')[0]
    return user


def offline_session_user(
        dialect: 'Dialect') -> 'Optional[ColumnElement[Any]]':
    """An SQL expression of the session user, evaluated when an offline
    script runs; None where there is none."""
    from sqlalchemy import func
    kind = server(dialect).session_user
    if kind == ACCOUNT_USER:
        return func.substring_index(func.current_user(), '@', 1)
    if kind == CURRENT_USER:
        return func.current_user()
    return None


def offline_utc_now(
        dialect: 'Dialect') -> 'Union[TextClause, ColumnClause[Any]]':
    """An SQL expression of the current time in UTC, evaluated when an
    offline script runs."""
    from sqlalchemy import literal_column
    from sqlalchemy import text
    expression = server(dialect).utc_now
    if expression is None:
        return text('CURRENT_TIMESTAMP')
    return literal_column(expression)


def lacks_create_index_if_not_exists(dialect: 'Dialect') -> bool:
    """Whether ``dialect`` has no ``CREATE INDEX IF NOT EXISTS``."""
    return not server(dialect).creates_index_if_not_exists(dialect)


def sqlite_in_memory(url: 'URL') -> bool:
    """Whether SQLAlchemy URL ``url`` names an in-memory SQLite database:
    no name, ``:memory:``, or a ``file:`` URI saying so (``file::memory:``,
    ``mode=memory``), as SQLAlchemy itself tells."""
    if url.get_backend_name() != 'sqlite':
        return False
    name = url.database
    return (not name or name == ':memory:' or
            name.startswith('file::memory:') or
            url.query.get('mode') == 'memory')


def sqlite_file(url: 'URL') -> Optional[str]:
    """The path of the SQLite database file ``url`` names; None if it is
    not SQLite, in memory, or a ``file:`` URI (whose path SQLite reads)."""
    if url.get_backend_name() != 'sqlite' or sqlite_in_memory(url):
        return None
    name = url.database
    return None if name is None or name.startswith('file:') else name


def has_a_server(url: 'URL') -> bool:
    """Whether ``url``'s database is reached through a server (that may
    be slow to answer), not a file."""
    return not server(url.get_backend_name()).is_a_file
