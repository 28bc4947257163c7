"""What provisioning does differently per backend, registered per dialect.

Each hook is declared once with the behaviour of any backend (``'*'``)
and overridden for the backends that differ, as SQLAlchemy's
``testing/provision.py`` does::

    @register.init
    def create_database(engine, name):
        return None                  # no databases of its own

    @create_database.for_db('postgresql', 'mysql', 'mariadb')
    def _create_on_server(engine, name):
        ...

A hook called with a URL, an engine, a connection or a
:class:`~.provision.Target` (its configured URL) runs the function
registered for that URL's backend.  Servers (PostgreSQL, MySQL, MariaDB)
get per-run databases; SQLite file targets get per-run files; in-memory
SQLite and other backends run where they are told.
"""
import glob
import os

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.engine import Connection
from sqlalchemy.engine import Engine

from .. import dialects

SERVERS = ('postgresql', 'mysql', 'mariadb')


class register:
    """A provisioning hook: a function per backend name, ``'*'`` for any
    other."""

    def __init__(self):
        self.fns = {}

    @classmethod
    def init(cls, fn):
        """Declare a hook whose behaviour for any backend is ``fn``."""
        return register().for_db('*')(fn)

    def for_db(self, *names):
        """Register the decorated function for the backends ``names``."""
        def decorate(fn):
            for name in names:
                self.fns[name] = fn
            return self
        return decorate

    def __call__(self, where, *args, **kw):
        backend = url_of(where).get_backend_name()
        return self.fns.get(backend, self.fns['*'])(where, *args, **kw)


def url_of(where):
    """The URL a hook dispatches on."""
    if isinstance(where, URL):
        return where
    if isinstance(where, (Engine, Connection)):
        return where.engine.url
    return where.configured_url


def _autocommit(engine):
    return engine.execution_options(isolation_level='AUTOCOMMIT')


def quoted(engine, name):
    """``name`` quoted as an identifier of ``engine``'s dialect."""
    return engine.dialect.identifier_preparer.quote_identifier(name)


@register.init
def on_server(url):
    """Whether per-run databases of ``url`` are made on its server (it
    must be reached to list or drop them)."""
    return False


@on_server.for_db(*SERVERS)
def _on_server(url):
    return True


@register.init
def file_database(url, name):
    """The URL of per-run database ``name`` where it is a file beside the
    configured one (made before connecting); None for other targets."""
    return None


@file_database.for_db('sqlite')
def _sqlite_file_database(url, name):
    if dialects.sqlite_file(url) is None:
        return None
    path = os.path.abspath(url.database)
    return url.set(database=os.path.join(os.path.dirname(path), name + '.db'))


@register.init
def create_database(engine, name):
    """Create database ``name`` on ``engine``'s server and return its URL;
    None where the backend has no databases to make."""
    return None


@create_database.for_db(*SERVERS)
def _create_on_server(engine, name):
    with _autocommit(engine).connect() as connection:
        connection.exec_driver_sql(
            'CREATE DATABASE %s' % quoted(engine, name))
    return engine.url.set(database=name)


@register.init
def list_databases(url, engine, prefix):
    """The databases whose names start with ``prefix`` beside configured
    URL ``url``: on its server (asked through ``engine``) or, as files,
    beside its file."""
    return []


@list_databases.for_db('postgresql')
def _list_postgresql(url, engine, prefix):
    return _query_names(engine, 'SELECT datname FROM pg_database '
                                'WHERE datname LIKE :pattern', prefix)


@list_databases.for_db('mysql', 'mariadb')
def _list_mysql(url, engine, prefix):
    return _query_names(engine, 'SELECT schema_name FROM '
                                'information_schema.schemata '
                                'WHERE schema_name LIKE :pattern', prefix)


def _query_names(engine, query, prefix):
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(
            text(query), {'pattern': prefix.replace('_', '\\_') + '%'})]


@list_databases.for_db('sqlite')
def _list_sqlite(url, engine, prefix):
    if dialects.sqlite_file(url) is None:
        return []
    directory = os.path.dirname(os.path.abspath(url.database))
    return [os.path.basename(path)[:-len('.db')] for path in glob.glob(
        os.path.join(glob.escape(directory), prefix + '*.db'))]


@register.init
def drop_database(target, name):
    """Drop per-run database ``name`` of a :class:`~.provision.Target`."""
    raise NotImplementedError(
        'no per-run databases on %s' % url_of(target).get_backend_name())


@drop_database.for_db('mysql', 'mariadb')
def _drop_on_mysql(target, name):
    engine = target.server_engine
    with _autocommit(engine).connect() as connection:
        connection.exec_driver_sql(
            'DROP DATABASE IF EXISTS %s' % quoted(engine, name))


@drop_database.for_db('postgresql')
def _drop_on_postgresql(target, name):
    engine = target.server_engine
    with _autocommit(engine).connect() as connection:
        # PostgreSQL 13+ ends the sessions still connected to it.
        force = ' WITH (FORCE)' \
            if connection.dialect.server_version_info >= (13,) else ''
        connection.exec_driver_sql('DROP DATABASE IF EXISTS %s%s' % (
            quoted(engine, name), force))


@drop_database.for_db('sqlite')
def _drop_sqlite_file(target, name):
    directory = os.path.dirname(os.path.abspath(
        target.configured_url.database))
    # With its journal or write-ahead log.
    for path in glob.glob(os.path.join(glob.escape(directory),
                                       name + '.db*')):
        os.remove(path)


@register.init
def drop_view(connection, name):
    """Drop view ``name``, with what depends on it where that must be
    said."""
    connection.exec_driver_sql('DROP VIEW IF EXISTS %s' % quoted(
        connection.engine, name))


@drop_view.for_db('postgresql')
def _drop_view_cascade(connection, name):
    connection.exec_driver_sql('DROP VIEW IF EXISTS %s CASCADE' % quoted(
        connection.engine, name))
