"""Engines for the test targets: connecting safely, clearing on request."""
from sqlalchemy import MetaData
from sqlalchemy import create_engine
from sqlalchemy import exc as sa_exc

#: Seconds to wait for a server before giving up.
CONNECT_TIMEOUT = 10
#: The connect() keyword each DBAPI driver takes for that timeout.
TIMEOUT_ARGUMENTS = {
    'psycopg': 'connect_timeout',
    'psycopg2': 'connect_timeout',
    'pymysql': 'connect_timeout',
    'mysqldb': 'connect_timeout',
    'pg8000': 'timeout',
}


class TargetError(Exception):
    """A target database cannot be used; the message is one line."""


class Target:
    """A database to test against: a label, a URL and (once connected) an
    engine."""

    def __init__(self, label, url):
        self.label = label
        self.url = url
        self.engine = None

    @property
    def safe_url(self):
        """The URL with its password masked."""
        return self.url.render_as_string(hide_password=True)

    def __repr__(self):
        return '%s (%s)' % (self.label, self.safe_url)


def create_target_engine(url):
    """An engine for ``url`` that gives up on a silent server in time."""
    timeout_argument = TIMEOUT_ARGUMENTS.get(url.get_driver_name())
    connect_args = {timeout_argument: CONNECT_TIMEOUT} if timeout_argument \
        else {}
    return create_engine(url, connect_args=connect_args)


def connect_all(targets):
    """Give each target an engine, checking that it accepts a connection.

    :raise TargetError: naming the first target that does not.
    """
    for target in targets:
        target.engine = create_target_engine(target.url)
        try:
            with target.engine.connect():
                pass
        except sa_exc.DBAPIError as err:
            raise TargetError('cannot connect to %s: %s' % (
                target.safe_url, _reason(err, target.url.password))) from None
    return targets


def _reason(err, password):
    text = ' '.join(line.strip() for line in str(err.orig).splitlines()
                    if line.strip())
    return text.replace(password, '***') if password else text


def drop_all_tables(target):
    """Drop every table of ``target``'s default schema; say which."""
    metadata = MetaData()
    metadata.reflect(target.engine)
    names = sorted(metadata.tables)
    metadata.drop_all(target.engine)
    return '--dropfirst: dropped %d table%s from %s%s' % (
        len(names), '' if len(names) == 1 else 's', target.safe_url,
        (': ' + ', '.join(names)) if names else '')
