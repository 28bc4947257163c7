"""``audit-alembic status``: each revision of a project, applied or not.

Like ``flyway info``: the revisions of the Alembic script directory,
oldest first, each with whether the database has it (from its version
table) and, from the history table, when it was applied and by which
application version; then the database's current head(s).
"""
import argparse
import sys

from ..exc import CommandError
from ..stored import as_stored
from ..values import CHANGE_TIME_COLUMN
from ..values import CHECKSUM_COLUMN
from ..values import DEFAULT_TABLE_NAME
from ..values import DB_USER_COLUMN
from ..values import DIRECTION_COLUMN
from ..values import HOST_COLUMN
from ..values import ID_COLUMN
from ..values import NEW_VERSION_COLUMN
from ..values import OK
from ..values import OPERATION_COLUMN
from ..values import OS_USER_COLUMN
from ..values import RUN_ID_COLUMN
from ..values import STAMP
from ..values import UP
from ..values import USER_VERSION_COLUMN
from . import database
from . import options
from . import project
from .layout import TableLayout
from .output import reports
from .output.text import one_line
from .output.text import revisions

#: History columns shown for an applied revision when the table has them,
#: in this order, after the change time and the user version.
DETAIL_COLUMNS = (DB_USER_COLUMN, OS_USER_COLUMN, HOST_COLUMN, RUN_ID_COLUMN)
#: Whether a revision's script still hashes to the ``script_checksum``
#: recorded when it was last applied.
SCRIPT_UNCHANGED = 'unchanged'
SCRIPT_CHANGED = 'CHANGED'

EPILOG = '''\
examples:
  audit-alembic status                       # the project of ./alembic.ini
  audit-alembic status --format json
  audit-alembic status --expect-head         # exit 1 unless fully upgraded
  audit-alembic status --url sqlite:///app.db --script-location migrations

--expect-head makes a deploy gate: the exit status is 1 unless the
database is at every head of the script directory, and 0 otherwise.
'''


def add_parser(commands):
    """Add the ``status`` command to the ``commands`` subparsers."""
    parser = commands.add_parser(
        'status', help='show which revisions a database has, and when',
        description='List the revisions of an Alembic project, oldest '
                    'first, with whether the database has each and when '
                    'it was applied.',
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    options.add_project_options(options.add_database_options(parser))
    group = parser.add_argument_group('output')
    group.add_argument('--format', choices=('table', 'json'),
                       default='table',
                       help='an aligned table (default) or JSON')
    group.add_argument('--expect-head', action='store_true',
                       help='exit with status 1 unless the database is at '
                            "the script directory's head(s)")
    return parser


def run(args):
    """Run ``audit-alembic status`` with parsed ``args``."""
    show_status(project.script_directory(args), options.database_url(args),
                options.table_layout(args), args.version_table,
                args.format, sys.stdout, expect_head=args.expect_head)


def show_status(scripts, url, layout=None, version_table=None,
                output_format='table', out=None, expect_head=False):
    """Write the status of each revision of ``scripts`` in the database
    of ``url`` to ``out``.

    :raise CommandError: if the database cannot be read, or, with
        ``expect_head``, if it is not at the head(s) of ``scripts``.
    """
    out = out or sys.stdout
    project.read_scripts(scripts)
    with database.connect(url) as connection:
        current = project.current_heads(connection, version_table, url)
        applied = applied_revisions(scripts, current)
        records = latest_upgrades(connection, layout or TableLayout())
    rows = status_rows(scripts, applied, records)
    heads = script_heads(scripts)
    if output_format == 'json':
        reports.write_status_json(rows, current, heads, out)
    else:
        reports.write_status_table(rows, current,
                                   DETAIL_COLUMNS + ('script',), out)
    if expect_head and set(current) != set(heads):
        raise CommandError(
            'the database is at %s, not at the head%s of the script '
            'directory (%s)' % (revisions(current),
                                's' if len(heads) > 1 else '',
                                revisions(heads)))


def script_heads(scripts):
    """The revisions ``alembic upgrade heads`` leaves in the version
    table, sorted: the heads of the script directory, less those another
    head depends on."""
    heads = scripts.get_heads()
    needed = set()
    for head in heads:
        needed.update(revision.revision for revision in
                      scripts.revision_map.iterate_revisions(
                          head, 'base', inclusive=True)
                      if revision.revision != head)
    return sorted(set(heads) - needed)


def applied_revisions(scripts, heads):
    """The ids of the revisions a database at ``heads`` has applied: the
    heads and everything they need."""
    from alembic.script.revision import RevisionError
    from alembic.util import CommandError as AlembicError
    if not heads:
        return set()
    try:
        return {revision.revision for revision in
                scripts.revision_map.iterate_revisions(
                    tuple(heads), 'base', inclusive=True)}
    except (AlembicError, RevisionError) as err:
        raise CommandError('the database is at %s, which the script '
                           'directory does not have: %s'
                           % (revisions(heads), one_line(err))) from None


def latest_upgrades(connection, layout):
    """Revision id -> the newest history row of a step up to it, as a dict
    keyed by role (see :class:`~.layout.TableLayout`) and by the names of
    other columns; empty where there is no history table."""
    from sqlalchemy import MetaData
    from sqlalchemy import Table
    from sqlalchemy import inspect
    from sqlalchemy import or_
    from sqlalchemy import select
    if not inspect(connection).has_table(layout.table_name,
                                         schema=layout.schema):
        if (layout.table_name, layout.schema) != (DEFAULT_TABLE_NAME, None):
            # Named on purpose: a typo is no "no history yet".
            project.require_table(connection, layout.table_name,
                                  layout.schema, connection.engine.url,
                                  'the history table')
        return {}
    table = Table(layout.table_name, MetaData(), schema=layout.schema,
                  autoload_with=connection)
    purpose = 'status'
    columns = {role: layout.column(table, role, purpose)
               for role in (ID_COLUMN, NEW_VERSION_COLUMN, DIRECTION_COLUMN)}
    for role in (OPERATION_COLUMN, CHANGE_TIME_COLUMN, USER_VERSION_COLUMN):
        if layout.name(role) in table.c:
            columns[role] = table.c[layout.name(role)]
    for name in DETAIL_COLUMNS + (CHECKSUM_COLUMN,):
        if name in table.c:
            columns[name] = table.c[name]
    # Values read as stored where their type cannot convert them (text
    # in the time column): shown, never a traceback.
    dialect = connection.dialect
    query = select(*[as_stored(column, dialect).label(key)
                     for key, column in columns.items()]
                   ).where(columns[DIRECTION_COLUMN] == UP)
    if 'status' in table.c:
        # NULL: a row written before the table had the column.
        query = query.where(or_(table.c.status == OK,
                                table.c.status.is_(None)))
    latest = {}
    result = connection.execution_options(
        stream_results=True, yield_per=1000).execute(
            query.order_by(columns[ID_COLUMN]))
    for row in result.mappings():
        for revision in layout.split(row[NEW_VERSION_COLUMN]):
            latest[revision] = dict(row)
    return latest


def status_rows(scripts, applied, records):
    """One dict per revision of ``scripts``, oldest first.

    ``state`` is ``applied`` (by a migration), ``stamped`` (the newest
    step up to it was a stamp), ``applied, no record`` (the database has it
    but the history does not say when) or ``pending``.  Where the history
    recorded the script's checksum, ``script`` says whether the script
    still has it (``unchanged``) or was edited since (``CHANGED``).
    """
    from ..record import script_checksum
    rows = []
    for script in reversed(list(scripts.walk_revisions())):
        is_applied = script.revision in applied
        record = records.get(script.revision, {}) if is_applied else {}
        if not is_applied:
            state = 'pending'
        elif not record:
            state = 'applied, no record'
        elif record.get(OPERATION_COLUMN) == STAMP:
            state = 'stamped'
        else:
            state = 'applied'
        row = {
            'revision': script.revision,
            'down_revisions': _down_revisions(script),
            'step': script.cmd_format(False, include_parents=True),
            'message': (script.doc or '').strip(),
            'applied': is_applied,
            'state': state,
            'applied_at': record.get(CHANGE_TIME_COLUMN),
            'user_version': record.get(USER_VERSION_COLUMN),
            'history_id': record.get(ID_COLUMN),
        }
        for name in DETAIL_COLUMNS:
            if name in record:
                row[name] = record[name]
        recorded = record.get(CHECKSUM_COLUMN)
        if recorded is not None:
            row[CHECKSUM_COLUMN] = recorded
            row['script'] = (SCRIPT_UNCHANGED
                             if script_checksum(script.path) == recorded
                             else SCRIPT_CHANGED)
        rows.append(row)
    return rows


def _down_revisions(script):
    down = script.down_revision
    if down is None:
        return []
    return [down] if isinstance(down, str) else list(down)
