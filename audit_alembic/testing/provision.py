"""Engines for the test targets: connecting safely, clearing on request."""
from sqlalchemy import MetaData

from .. import database
from ..exc import CommandError


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
        """The URL with its passwords masked."""
        return database.masked(self.url)

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
            database.wait_for_server(target.engine)
        except CommandError as err:
            raise TargetError(str(err)) from None
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
