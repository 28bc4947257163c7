"""What ``drift``, ``status`` and ``verify`` read of the schema snapshots.

With ``Auditor.create(details=True)`` every online run records the
schema it ends with (see :mod:`audit_alembic.drift`): the snapshot in
the history table's companion (``<history>_schema``), its hash in the
``schema_hash`` of the run's last rows.  :func:`compare` sets the live
schema against the last of them (the *baseline*), reading only; and
:func:`recorded_change` gives the changes a ``'drift'`` row recorded.
"""
from ..values import RUN_ID_COLUMN
from ..values import SCHEMA_HASH_COLUMN
from ..values import STATUS_COLUMN

#: How to start recording snapshots, for messages.
HOW_TO_RECORD = ('run alembic upgrade with an Auditor made by '
                 'Auditor.create(details=True), as the shipped env.py does; '
                 'each online run then records a snapshot')
#: Why a baseline's comparison cannot tell drift (it is stale).
STALE_NOTE = ('steps were recorded after the last snapshot without one of '
              'their own (offline scripts, or a run still going or stopped '
              'mid-way): differences may be theirs, not drift; the next '
              'online run records a new snapshot')


class SchemaState:
    """The live schema against the last recorded snapshot.

    :ivar baseline: the :class:`~audit_alembic.snapstore.Baseline`, or None.
    :ivar reason: why no comparison was made (no ``schema_hash`` column,
        no snapshot yet, the snapshot is missing), or None.
    :ivar schema_hash: the live schema's hash (None without comparison).
    :ivar changes: the :class:`~audit_alembic.schemadiff.Change` list from
        the baseline to the live schema (``[]`` when they match).
    """

    def __init__(self, baseline=None, reason=None, schema_hash=None,
                 changes=None):
        self.baseline = baseline
        self.reason = reason
        self.schema_hash = schema_hash
        self.changes = changes or []

    @property
    def compared(self):
        """Whether the live schema was compared with a snapshot."""
        return self.reason is None

    @property
    def differs(self):
        """Whether the live schema differs from the baseline."""
        return self.compared and (
            self.schema_hash != self.baseline.schema_hash)

    @property
    def drift(self):
        """True: drift; False: none; None: it cannot tell (no comparison,
        or a stale baseline that the live schema differs from)."""
        if not self.compared:
            return None
        if self.differs and self.baseline.stale:
            return None
        return self.differs


def watch_of(table, layout, schemas=()):
    """The :class:`~audit_alembic.drift.SchemaWatch` of history ``table``
    (its columns named by ``layout``), also watching ``schemas``."""
    from ..drift import SchemaWatch  # SQLAlchemy: not for --help
    return SchemaWatch(table, layout.names, layout.separator, schemas)


def records_snapshots(table):
    """Whether history ``table`` has the columns snapshots need."""
    return all(name in table.c for name in (
        SCHEMA_HASH_COLUMN, RUN_ID_COLUMN, STATUS_COLUMN))


def no_column_reason(table):
    """Why ``table`` holds no snapshots: it lacks the column."""
    return ('table %s has no %s column (Auditor.create(details=True) adds '
            'it)' % (table.fullname, SCHEMA_HASH_COLUMN))


def load_snapshot(watch, connection, schema_hash):
    """The stored snapshot of ``schema_hash``, or a text saying why there
    is none (a str)."""
    from sqlalchemy import inspect
    companion = watch.snapshots
    if not inspect(connection).has_table(companion.name,
                                         schema=companion.schema):
        return 'no table %s to hold the snapshots' % companion.fullname
    try:
        document = watch.stored(connection, schema_hash)
    except ValueError as err:
        return 'the snapshot %s... in %s is unreadable: %s' % (
            schema_hash[:12], companion.fullname, err)
    if document is None:
        return 'the snapshot %s... is missing from %s' % (
            schema_hash[:12], companion.fullname)
    return document


def compare(connection, table, layout):
    """The :class:`SchemaState` of the database of history ``table``
    (reflected; its columns named by ``layout``), read on
    ``connection``: the live schema (the default schema, and those the
    baseline snapshot holds) against the last recorded snapshot."""
    from .. import schemadiff
    if not records_snapshots(table):
        return SchemaState(reason=no_column_reason(table))
    watch = watch_of(table, layout)
    baseline = watch.baseline(connection)
    if baseline is None:
        return SchemaState(reason='no schema snapshot recorded yet in %s: '
                                  '%s' % (table.fullname, HOW_TO_RECORD))
    before = load_snapshot(watch, connection, baseline.schema_hash)
    if isinstance(before, str):
        return SchemaState(baseline, reason=before)
    others = sorted(name for name in before['schemas'] if name)
    document, digest = watch_of(table, layout, others).take(connection)
    changes = [] if digest == baseline.schema_hash else schemadiff.diff(
        before, document)
    return SchemaState(baseline, schema_hash=digest, changes=changes)


def history_table(connection, layout):
    """The history table ``layout`` names, reflected, or None where the
    database has none."""
    from sqlalchemy import MetaData
    from sqlalchemy import Table
    from sqlalchemy import inspect
    if not inspect(connection).has_table(layout.table_name,
                                         schema=layout.schema):
        return None
    return Table(layout.table_name, MetaData(), schema=layout.schema,
                 autoload_with=connection)


def status_state(connection, layout):
    """The :class:`SchemaState` ``status`` shows, or None where the
    history table records no snapshots (it is missing, or has no
    ``schema_hash`` column).  Never an error: a database error (e.g. no
    privilege to reflect) is the reason."""
    from sqlalchemy.exc import SQLAlchemyError

    from .output.text import one_line
    try:
        table = history_table(connection, layout)
        if table is None or not records_snapshots(table):
            return None
        return compare(connection, table, layout)
    except SQLAlchemyError as err:
        return SchemaState(reason='cannot compare: %s' % one_line(
            getattr(err, 'orig', None) or err, first=True))


def recorded_change(watch, connection, row_hash, before_hash):
    """The changes from the snapshot ``before_hash`` to ``row_hash``
    (a 'drift' row's), or a text saying why they cannot be had."""
    from .. import schemadiff
    if row_hash is None:
        return 'the row names no snapshot'
    if before_hash is None:
        return 'no snapshot was recorded before it'
    after = load_snapshot(watch, connection, row_hash)
    if isinstance(after, str):
        return after
    before = load_snapshot(watch, connection, before_hash)
    if isinstance(before, str):
        return before
    return schemadiff.diff(before, after)
