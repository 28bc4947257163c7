"""What the history says of each revision, as ``status`` shows it.

One pass over the history table, oldest row first, streaming it, gives
per revision the newest successful step up to it (when it was applied,
by which version) and its last failed attempt, where no successful step
concerning that revision (up to it, or down off it) came after that
attempt: the database is where its version table says, and the failure
is what happened to the revision since.
"""
from ..stored import as_stored
from ..values import ACCEPTED
from ..values import CHANGE_TIME_COLUMN
from ..values import CHECKSUM_COLUMN
from ..values import DB_USER_COLUMN
from ..values import DEFAULT_TABLE_NAME
from ..values import DIRECTION_COLUMN
from ..values import ERROR_COLUMN
from ..values import FAILED
from ..values import HOST_COLUMN
from ..values import ID_COLUMN
from ..values import NEW_VERSION_COLUMN
from ..values import OK
from ..values import OLD_VERSION_COLUMN
from ..values import OPERATION_COLUMN
from ..values import OS_USER_COLUMN
from ..values import RUN_ID_COLUMN
from ..values import STATUS_COLUMN
from ..values import UP
from ..values import USER_VERSION_COLUMN
from . import project

#: History columns shown for an applied revision when the table has them,
#: in this order, after the change time and the user version.
DETAIL_COLUMNS = (DB_USER_COLUMN, OS_USER_COLUMN, HOST_COLUMN, RUN_ID_COLUMN)
#: Rows fetched from the database at a time.
BATCH_SIZE = 1000


class RevisionRecords:
    """What :func:`read_records` found, by revision id.

    :ivar latest: revision -> the newest successful step up to it, a dict
        keyed by role (see :class:`~.layout.TableLayout`) and by the names
        of other columns.
    :ivar failures: revision -> its last failed attempt (the same kind of
        dict, with ``status`` and ``error``), where no successful step up
        to it or down off it came after.
    """

    def __init__(self, latest=None, failures=None):
        self.latest = latest or {}
        self.failures = failures or {}


def read_records(connection, layout):
    """The :class:`RevisionRecords` of the history table ``layout``
    names; empty where there is no history table (unless the table was
    named on purpose: then it must exist).

    :raise CommandError: if a named table, or a column status needs, is
        missing.
    """
    from sqlalchemy import MetaData
    from sqlalchemy import Table
    from sqlalchemy import inspect
    from sqlalchemy import select
    if not inspect(connection).has_table(layout.table_name,
                                         schema=layout.schema):
        if (layout.table_name, layout.schema) != (DEFAULT_TABLE_NAME, None):
            # Named on purpose: a typo is no "no history yet".
            project.require_table(connection, layout.table_name,
                                  layout.schema, connection.engine.url,
                                  'the history table')
        return RevisionRecords()
    table = Table(layout.table_name, MetaData(), schema=layout.schema,
                  autoload_with=connection)
    columns = {role: layout.column(table, role, 'status')
               for role in (ID_COLUMN, NEW_VERSION_COLUMN, DIRECTION_COLUMN)}
    for role in (OLD_VERSION_COLUMN, OPERATION_COLUMN, CHANGE_TIME_COLUMN,
                 USER_VERSION_COLUMN):
        if layout.name(role) in table.c:
            columns[role] = table.c[layout.name(role)]
    for name in DETAIL_COLUMNS + (CHECKSUM_COLUMN, STATUS_COLUMN,
                                  ERROR_COLUMN):
        if name in table.c:
            columns[name] = table.c[name]
    # Values read as stored where their type cannot convert them (text
    # in the time column): shown, never a traceback.
    dialect = connection.dialect
    query = select(*[as_stored(column, dialect).label(key)
                     for key, column in columns.items()]
                   ).order_by(columns[ID_COLUMN])
    result = connection.execution_options(
        stream_results=True, yield_per=BATCH_SIZE).execute(query)
    records = RevisionRecords()
    for row in result.mappings():
        _take(records, dict(row), layout)
    return records


def _take(records, row, layout):
    """Note the next history ``row``, oldest first."""
    status = row.get(STATUS_COLUMN)
    reached = layout.split(row[NEW_VERSION_COLUMN])
    if status == FAILED:
        # The revision whose script raised.
        for revision in reached:
            records.failures[revision] = row
        return
    if status == ACCEPTED:
        # An edit of the script accepted after it ran (accept): the
        # checksum the script is checked against from now on.
        for revision in reached:
            if revision in records.latest:
                records.latest[revision] = dict(
                    records.latest[revision],
                    **{CHECKSUM_COLUMN: row.get(CHECKSUM_COLUMN)})
        return
    if status not in (OK, None):
        # NULL: a row written before the table had the column; other
        # values are no step.
        return
    if row[DIRECTION_COLUMN] == UP:
        moved = reached
        for revision in reached:
            records.latest[revision] = row
    else:
        moved = layout.split(row.get(OLD_VERSION_COLUMN))
    for revision in moved:
        records.failures.pop(revision, None)
