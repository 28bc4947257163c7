"""Engines for the test targets: connecting safely, clearing on request."""
from sqlalchemy import MetaData
from sqlalchemy import exc as sa_exc

from .. import database
from ..cli import CommandError


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


def connect_all(targets):
    """Give each target an engine, checking that it accepts a connection
    (within :data:`audit_alembic.database.CONNECT_TIMEOUT` seconds).

    :raise TargetError: naming the first target that does not.
    """
    for target in targets:
        try:
            target.engine = database.create_engine(target.url)
        except CommandError as err:  # unknown dialect, missing driver
            raise TargetError(str(err)) from None
        try:
            with target.engine.connect():
                pass
        except sa_exc.DBAPIError as err:
            raise TargetError('cannot connect to %s: %s' % (
                target.safe_url, database.reason(err, target.url))) from None
    return targets


def drop_all_tables(target):
    """Drop every table of ``target``'s default schema; say which."""
    metadata = MetaData()
    metadata.reflect(target.engine)
    names = sorted(metadata.tables)
    metadata.drop_all(target.engine)
    return '--dropfirst: dropped %d table%s from %s%s' % (
        len(names), '' if len(names) == 1 else 's', target.safe_url,
        (': ' + ', '.join(names)) if names else '')
