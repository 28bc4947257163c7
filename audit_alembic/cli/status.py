"""``audit-alembic status``: each revision of a project, applied or not.

Like ``flyway info``: the revisions of the Alembic script directory,
oldest first, each with whether the database has it (from its version
table) and, from the history table, when it was applied and by which
application version, and whether its last attempt failed since its last
successful step (see :mod:`.records`); then the database's current
head(s), and whether the schema matches the last recorded snapshot (see
:mod:`.schema_state`).
"""
import sys

from ..exc import CheckFailed
from ..exc import CommandError
from ..values import CHANGE_TIME_COLUMN
from ..values import CHECKSUM_COLUMN
from ..values import DIRECTION_COLUMN
from ..values import ERROR_COLUMN
from ..values import ID_COLUMN
from ..values import OPERATION_COLUMN
from ..values import STAMP
from ..values import USER_VERSION_COLUMN
from . import database
from . import options
from . import project
from .layout import TableLayout
from .output import reports
from .output.text import one_line
from .output.text import revisions
from .records import DETAIL_COLUMNS
from .records import read_records
from .schema_state import status_state

#: Whether a revision's script still hashes to the ``script_checksum``
#: recorded when it was last applied.
SCRIPT_UNCHANGED = 'unchanged'
SCRIPT_CHANGED = 'CHANGED'
#: The state of a revision the database does not have, whose last
#: attempt failed.
FAILED_STATE = 'failed'
#: Added to the state of a revision the database has, whose last attempt
#: (a downgrade, say) failed after its last successful step.
FAILED_SINCE = ', last attempt failed'

EPILOG = '''\
examples:
  audit-alembic status                       # the project of ./alembic.ini
  audit-alembic status --format json
  audit-alembic status --expect-head         # exit 1 unless fully upgraded
  audit-alembic status --url sqlite:///app.db --script-location migrations

A revision whose last attempt failed shows as failed (or, where the
database still has it, e.g. after a failed downgrade, as applied, last
attempt failed), with when and the first line of the error.

--expect-head makes a deploy gate: the exit status is 0 when the
database is at every head of the script directory, 1 when it is not,
and 2 when status cannot tell (the database cannot be reached, say).
'''


def add_parser(commands):
    """Add the ``status`` command to the ``commands`` subparsers."""
    parser = commands.add_parser(
        'status', help='show which revisions a database has, and when',
        description='List the revisions of an Alembic project, oldest '
                    'first, with whether the database has each and when '
                    'it was applied.',
        epilog=EPILOG)
    options.add_project_options(options.add_database_options(parser))
    group = parser.add_argument_group('output')
    group.add_argument('--format', choices=('table', 'json'),
                       default='table',
                       help='an aligned table (default) or JSON')
    group.add_argument('--wide', action='store_true',
                       help='in the table, never cut a cell to fit the '
                            'terminal')
    group.add_argument('--expect-head', action='store_true',
                       help='exit with status 1 unless the database is at '
                            "the script directory's head(s)")
    return parser


def run(args):
    """Run ``audit-alembic status`` with parsed ``args``."""
    show_status(project.script_directory(args), options.database_url(args),
                options.table_layout(args), args.version_table,
                args.format, sys.stdout, expect_head=args.expect_head,
                wide=args.wide)


def show_status(scripts, url, layout=None, version_table=None,
                output_format='table', out=None, expect_head=False,
                wide=False):
    """Write the status of each revision of ``scripts`` in the database
    of ``url`` to ``out``.

    :raise CommandError: if the database cannot be read.
    :raise CheckFailed: with ``expect_head``, if it is not at the
        head(s) of ``scripts``.
    """
    out = out or sys.stdout
    project.read_scripts(scripts)
    with database.connect(url) as connection:
        current = project.current_heads(connection, version_table, url)
        applied = applied_revisions(scripts, current)
        records = read_records(connection, layout or TableLayout())
        schema = status_state(connection, layout or TableLayout())
    rows = status_rows(scripts, applied, records)
    heads = project.script_heads(scripts)
    if output_format == 'json':
        reports.write_status_json(rows, current, heads, out, schema=schema)
    else:
        reports.write_status_table(rows, current,
                                   DETAIL_COLUMNS + ('script',), out,
                                   wide=wide, schema=schema)
    if expect_head and set(current) != set(heads):
        raise CheckFailed(
            'the database is at %s, not at the head%s of the script '
            'directory (%s)' % (revisions(current),
                                's' if len(heads) > 1 else '',
                                revisions(heads)))


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


def status_rows(scripts, applied, records):
    """One dict per revision of ``scripts``, oldest first, from the
    ``applied`` revision ids and the history's :class:`.RevisionRecords`.

    ``state`` is ``applied`` (by a migration), ``stamped`` (the newest
    step up to it was a stamp), ``applied, no record`` (the database has it
    but the history does not say when), ``pending``, or ``failed`` (the
    database does not have it, and the last attempt at it failed).  A
    revision the database has whose last attempt failed after its last
    successful step (a failed downgrade) is ``applied, last attempt
    failed`` (or ``stamped, ...``).  ``last_failure`` is that attempt
    (``at``, ``direction``, ``error``'s first line, ``history_id``), or
    None.  Where the history recorded the script's checksum, ``script``
    says whether the script still has it (``unchanged``) or was edited
    since (``CHANGED``).
    """
    from ..facts import script_checksum
    rows = []
    for script in reversed(list(scripts.walk_revisions())):
        is_applied = script.revision in applied
        record = records.latest.get(script.revision, {}) \
            if is_applied else {}
        failure = records.failures.get(script.revision)
        state = _state(is_applied, record)
        if failure is not None:
            state = state + FAILED_SINCE if is_applied else FAILED_STATE
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
            'last_failure': _failure(failure),
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


def _state(is_applied, record):
    if not is_applied:
        return 'pending'
    if not record:
        return 'applied, no record'
    if record.get(OPERATION_COLUMN) == STAMP:
        return 'stamped'
    return 'applied'


def _failure(row):
    """A failed attempt's history ``row`` as ``status`` shows it."""
    if row is None:
        return None
    return {'at': row.get(CHANGE_TIME_COLUMN),
            'direction': row.get(DIRECTION_COLUMN),
            'error': one_line(row.get(ERROR_COLUMN), first=True) or None,
            'history_id': row.get(ID_COLUMN)}


def _down_revisions(script):
    down = script.down_revision
    if down is None:
        return []
    return [down] if isinstance(down, str) else list(down)
