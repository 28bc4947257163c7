"""Engines for the test targets: connecting, and per-run databases.

Each run, and each worker of a parallel run, works in a database of its
own, as SQLAlchemy's "follower" databases do: on PostgreSQL and
MySQL/MariaDB one named ``test_aa_<pid>_<random>`` is created on the
configured server and dropped at the end; a SQLite file target gets a
file of that name beside the configured one.  The configured database is
only used to connect and create.  Where the role may not create
databases, the run falls back to the configured database.  What
differs per backend is registered in :mod:`.backends`; what killed
runs left behind is cleared by :mod:`.leftovers`.
"""
import hashlib
import os
import secrets
import sys

from .. import engines
from ..exc import CommandError
from . import backends

#: Every per-run database name starts with this.
PREFIX = 'test_aa_'
SETUP_SCRIPT = 'tools/setup_test_databases.sh'
#: Set to 1 (as CI does) to make a missing server or right a failure.
REQUIRE_SERVERS = 'AUDIT_ALEMBIC_REQUIRE_SERVERS'
#: Set by the process that started a run, for its workers (forked or
#: spawned): the configured databases (keys, see :func:`shared_key`) where
#: it could not create one of its own.  Workers then run there too,
#: without trying again nor warning again: the warning is once per run.
SHARED_DATABASES = 'AUDIT_ALEMBIC_SHARED_DATABASES'


class TargetError(Exception):
    """A target database cannot be used; the message is one line."""


class Target:
    """A database to test against: a label, a URL and (once connected) an
    engine.

    ``configured_url`` is the URL the user gave; ``url`` is where tests
    run, the per-run database once :func:`own_file_database` or
    :func:`create_own_database` made one (then named by
    ``own_database``).  ``admin_engine`` is connected to the configured
    database of a server where the run made one of its own.
    """

    def __init__(self, label, url):
        self.label = label
        self.url = self.configured_url = url
        self.engine = None
        self.admin_engine = None
        self.own_database = None

    @property
    def server_engine(self):
        """The engine that creates and drops databases on the server."""
        return self.admin_engine or self.engine

    @property
    def safe_url(self):
        """The URL with its passwords masked."""
        return engines.masked(self.url)

    @property
    def isolated(self):
        """Whether the target runs in a database of its own."""
        return self.own_database is not None

    def __repr__(self):
        return '%s (%s)' % (self.label, self.safe_url)


def connect_all(targets):
    """Give each target an engine, checking that it accepts a connection
    (within :data:`audit_alembic.engines.CONNECT_TIMEOUT` seconds).

    :raise TargetError: naming the first target that does not, once the
        connections made so far are closed.
    """
    for target in targets:
        try:
            target.engine = engines.create_engine(target.url)
            engines.wait_for_server(target.engine)
        except CommandError as err:
            for connected in targets:
                close_engines(connected)
            raise TargetError(str(err)) from None
    return targets


def login_problem(url, timeout=engines.CONNECT_TIMEOUT):
    """Why ``url`` cannot be logged into, on one line; None if it can."""
    try:
        engine = engines.create_engine(url)
    except CommandError as err:
        return str(err)
    try:
        engines.wait_for_server(engine, timeout)
    except CommandError as err:
        return str(err)
    finally:
        engine.dispose()
    return None


#: The process id the per-run names carry: the process that started the
#: run, so that it can drop what a crashed worker left.
RUN_PID = os.getpid()


def set_run_pid(pid):
    """Name per-run databases after process ``pid`` (a worker's parent)."""
    global RUN_PID
    RUN_PID = pid


def new_name():
    """A per-run database name no other run on this machine can have."""
    return '%s%d_%s' % (PREFIX, RUN_PID, secrets.token_hex(4))


def own_file_database(target):
    """Point a ``target`` whose databases are files (SQLite), before it
    connects, at a file of its own beside the configured one; False for
    other targets."""
    name = new_name()
    url = backends.file_database(target.url, name)
    if url is None:
        return False
    target.url = url
    target.own_database = name
    return True


def shared_key(url):
    """A key naming configured database ``url`` in
    :data:`SHARED_DATABASES` (a digest: no password in the environment)."""
    rendered = url.render_as_string(hide_password=False)
    return hashlib.sha256(rendered.encode('utf-8')).hexdigest()[:16]


def _shared_keys():
    return set(filter(None, os.environ.get(SHARED_DATABASES, '').split(',')))


def _mark_shared(target):
    keys = _shared_keys() | {shared_key(target.configured_url)}
    os.environ[SHARED_DATABASES] = ','.join(sorted(keys))


def shares_database(target):
    """Whether ``target`` runs in its configured database, shared with
    every worker of the run, because the role may not create one (its
    tests must then run in one worker)."""
    return not target.isolated and backends.on_server(target.url) and \
        shared_key(target.configured_url) in _shared_keys()


def create_own_database(target, warn=None):
    """Move a connected ``target`` into a new database of its own on its
    server.

    Returns False (and warns through ``warn``) if the server refuses to
    create one: the target then stays on its configured database, and
    the run's workers (which inherit :data:`SHARED_DATABASES`) stay there
    too without asking again.  A target whose backend has no databases
    to create (in-memory SQLite) stays too, silently.
    """
    if target.isolated or not backends.on_server(target.url):
        return target.isolated
    if shares_database(target):
        return False
    name = new_name()
    try:
        url = backends.create_database(target.engine, name)
    except Exception as err:
        problem = 'cannot create a database on %s (%s)' % (
            target.safe_url, engines.describe_error(err, target.url))
        if os.environ.get(REQUIRE_SERVERS) == '1':
            raise TargetError('%s; %s=1 requires it; run %s' % (
                problem, REQUIRE_SERVERS, SETUP_SCRIPT)) from None
        if warn is not None:
            warn('warning: %s; running in that database itself, as '
                 'without isolation, in one worker (%s grants the right)'
                 % (problem, SETUP_SCRIPT))
        _mark_shared(target)
        return False
    target.admin_engine = target.engine
    target.own_database = name
    target.url = url
    target.engine = engines.create_engine(url)
    return True


def isolation_problem(url):
    """Why runs on configured database ``url`` (a server's) cannot have
    databases of their own, on one line naming what to run; None if they
    can (found by creating and dropping one)."""
    if not backends.on_server(url):
        return None
    target = Target('probe', url)
    try:
        connect_all([target])
        name = new_name()
        backends.create_database(target.engine, name)
        backends.drop_database(target, name)
    except Exception as err:
        return 'cannot create a database on %s (%s); %s grants the right' % (
            target.safe_url, engines.describe_error(err, url), SETUP_SCRIPT)
    finally:
        close_engines(target)
    return None


def drop_own_database(target):
    """Drop the database this run made for ``target``, if any."""
    if not target.isolated:
        return
    name, target.own_database = target.own_database, None
    if target.engine is not None:
        target.engine.dispose()
    backends.drop_database(target, name)
    target.url = target.configured_url


def close_engines(target):
    """Close the connections ``target``'s engines keep in their pools
    (engines may connect again later)."""
    for engine in (target.engine, target.admin_engine):
        if engine is not None:
            engine.dispose()


def warn(message):
    """Print a warning line on stderr."""
    print(message, file=sys.stderr)
