"""``audit-alembic accept``: take an intended edit of a script that ran.

It appends one chained row (``status`` and ``operation_type``
``'accepted'``, the script's checksum now, who and where, the reason in
``message``); no row is ever rewritten.  ``verify`` then takes that
checksum as the revision's current one.  The only command that writes.
"""
import argparse
import sys
import uuid

from .. import chain
from .. import dialects
from .. import hashing
from ..exc import CommandError
from ..facts import script_checksum
from ..record import DetailColumnValues
from ..stored import as_stored
from ..values import ACCEPTED
from ..values import CHANGE_TIME_COLUMN
from ..values import CHECKSUM_COLUMN
from ..values import DB_USER_COLUMN
from ..values import DIRECTION_COLUMN
from ..values import DOWN
from ..values import HOST_COLUMN
from ..values import ID_COLUMN
from ..values import MESSAGE_COLUMN
from ..values import OK
from ..values import NEW_VERSION_COLUMN
from ..values import OLD_VERSION_COLUMN
from ..values import OPERATION_COLUMN
from ..values import OS_USER_COLUMN
from ..values import ROW_HASH_COLUMN
from ..values import RUN_ID_COLUMN
from ..values import STAMP
from ..values import STATUS_COLUMN
from ..values import UP
from ..values import USER_VERSION_COLUMN
from ..values import CommonColumnValues
from ..values import chained_names
from . import database
from . import options
from . import project
from .output.text import one_line

EPILOG = '''\
This is the only command that writes: it appends one row to the history
table and changes no other.  Where the chain uses a key, set
AUDIT_ALEMBIC_KEY as the auditor has it.  When the script already has
the checksum the history takes as current, it writes nothing and says
so (exit status 0).

examples:
  audit-alembic accept 3fa2c1 --reason "comment typo fixed, no SQL change"
'''
#: The detail columns the row needs.
NEEDED = (STATUS_COLUMN, CHECKSUM_COLUMN, MESSAGE_COLUMN)


def add_parser(commands):
    """Add the ``accept`` command to the ``commands`` subparsers."""
    parser = commands.add_parser(
        'accept', help="accept a script's edit after it ran (writes one "
                       'row)',
        description="Accept the edit of a revision's script after it ran: "
                    "append a chained 'accepted' row with the script's "
                    'checksum now, who, where and why, so that verify '
                    'takes that checksum as current.  WRITES to the '
                    'history table (one row; no row is rewritten).',
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('revision', metavar='REVISION',
                        help='the revision (or a unique start of it)')
    parser.add_argument('--reason', metavar='TEXT', required=True,
                        type=_reason,
                        help='why the edit is fine (required; stored in '
                             'the message column)')
    options.add_project_options(options.add_database_options(parser))
    return parser


def _reason(text):
    text = text.strip()
    if not text:
        raise argparse.ArgumentTypeError('the reason cannot be empty')
    return text


def run(args):
    """Run ``audit-alembic accept`` with parsed ``args``."""
    scripts = project.script_directory(args)
    project.read_scripts(scripts)
    script = _script(scripts, args.revision)
    checksum = script_checksum(script.path)
    url = options.database_url(args)
    layout = options.table_layout(args)
    with database.connect(url) as connection:
        table = project.reflect_table(connection, layout.table_name,
                                      layout.schema, url)
        result = accept(connection, table, layout, script.revision,
                        checksum, args.reason)
        connection.commit()
    if result.written:
        print('accepted revision %s: script SHA-256 %s... (row %s)' % (
            script.revision, checksum[:12], result.row_id), file=sys.stdout)
    else:
        print('nothing to accept: the script of revision %s has SHA-256 '
              '%s..., already current since row %s; no row written' % (
                  script.revision, checksum[:12], result.row_id),
              file=sys.stdout)


class Acceptance:
    """What :func:`accept` did.

    :ivar written: whether it appended a row.
    :ivar row_id: the id of the row it appended, or, where it wrote
        nothing, of the row whose checksum the script already has.
    """

    def __init__(self, written, row_id):
        self.written = written
        self.row_id = row_id


def _script(scripts, revision):
    from alembic.script.revision import RevisionError
    from alembic.util import CommandError as AlembicError
    try:
        script = scripts.get_revision(revision)
    except (AlembicError, RevisionError) as err:
        raise CommandError('no revision %s in the script directory: %s'
                           % (revision, one_line(err, first=True))) from None
    if script is None:
        raise CommandError('no revision %s in the script directory'
                           % revision)
    return script


def accept(connection, table, layout, revision, checksum, reason):
    """Append the row accepting ``checksum`` as the script of
    ``revision`` to ``table`` (whose columns ``layout`` names), chained
    as the auditor chains, unless the history already takes that
    checksum as the revision's current one (see :func:`current_checksum`):
    then write nothing.

    :return: an :class:`Acceptance`.
    :raise CommandError: if the table lacks a column the row needs, or
        its chain uses another key than ``AUDIT_ALEMBIC_KEY``.
    """
    missing = [name for name in NEEDED if name not in table.c]
    if missing:
        raise CommandError(
            'accept needs column%s %s, which table %s lacks (tables of '
            'Auditor.create(details=True) have them)' % (
                's' if len(missing) > 1 else '', ', '.join(missing),
                table.fullname))
    # Every standard column, or one line naming the one it lacks.
    names = {role: layout.column(table, role, 'accept').name
             for role in layout.names}
    chained = chained_names(names)
    writer = None
    if ROW_HASH_COLUMN in table.c and all(n in table.c for n in chained):
        writer = chain.ChainWriter(table, chained)
        writer.lock(connection)  # no other writer until the commit
    current = current_checksum(connection, table, layout, revision)
    if current is not None and current[1] == checksum:
        return Acceptance(False, current[0])
    row = _row(connection, table, names, revision, checksum, reason)
    if writer is not None:
        _check_key(connection, table, chained, names[ID_COLUMN])
        writer.link(connection, [row], locked=True)
    result = connection.execute(table.insert(), row)
    if writer is not None:
        writer.written(connection, [row])
    key = result.inserted_primary_key
    return Acceptance(True, key[0] if key else None)


def _row(connection, table, names, revision, checksum, reason):
    """The row accepting ``checksum`` as the script of ``revision``."""
    row = {
        names[NEW_VERSION_COLUMN]: revision,
        names[OLD_VERSION_COLUMN]: revision,
        names[OPERATION_COLUMN]: ACCEPTED,
        names[DIRECTION_COLUMN]: UP,
        names[USER_VERSION_COLUMN]: _user_version(connection, table,
                                                  names),
        names[CHANGE_TIME_COLUMN]: CommonColumnValues.change_time(),
        STATUS_COLUMN: ACCEPTED,
        CHECKSUM_COLUMN: checksum,
        MESSAGE_COLUMN: reason[:getattr(table.c[MESSAGE_COLUMN].type,
                                        'length', None)],
    }
    for name, value in (
            (RUN_ID_COLUMN, str(uuid.uuid4())),
            (DB_USER_COLUMN, dialects.session_user(connection)),
            (OS_USER_COLUMN, DetailColumnValues.os_user(ctx=_Online)),
            (HOST_COLUMN, DetailColumnValues.host(ctx=_Online))):
        if name in table.c:
            row[name] = value
    return row


def current_checksum(connection, table, layout, revision):
    """``(row id, checksum)`` of the newest row that recorded running the
    script of ``revision`` (an upgrade or stamp to it alone, a downgrade
    off it alone: status ``ok``, or NULL in rows older than the column)
    or accepted an edit of it, as ``verify`` takes it; None where no
    such row recorded a checksum.  Failed attempts, and rows of any
    other status, do not count."""
    from sqlalchemy import or_
    from sqlalchemy import select
    row_id = layout.column(table, ID_COLUMN, 'accept')
    old, new, direction, operation = [
        layout.column(table, role, 'accept') for role in (
            OLD_VERSION_COLUMN, NEW_VERSION_COLUMN, DIRECTION_COLUMN,
            OPERATION_COLUMN)]
    stored = table.c[CHECKSUM_COLUMN]
    status = table.c[STATUS_COLUMN]
    query = select(row_id, old, new, direction, operation, stored).where(
        stored.isnot(None), or_(status.is_(None),
                                status.in_((OK, ACCEPTED))),
        or_(old == revision, new == revision)).order_by(row_id.desc())
    for found, before, after, way, kind, value in connection.execute(query):
        ran = before if way == DOWN and kind != STAMP else after
        if layout.split(ran) == [revision]:
            return found, value
    return None


class _Online:
    """A stand-in migration context for the values that only ask whether
    Alembic runs offline."""
    as_sql = False


def _user_version(connection, table, names):
    """None, or where the column takes no NULL the last row's value."""
    from sqlalchemy import select
    column = table.c[names[USER_VERSION_COLUMN]]
    if column.nullable:
        return None
    return connection.scalar(select(column).order_by(
        table.c[names[ID_COLUMN]].desc()).limit(1))


def _check_key(connection, table, chained, id_name):
    """:raise CommandError: unless the last chained row's hash follows
    with the key of ``AUDIT_ALEMBIC_KEY`` (or with none where it is
    unset), so that the new row's hash would too."""
    from sqlalchemy import select
    row_id, stored = table.c[id_name], table.c[ROW_HASH_COLUMN]
    last_two = connection.execute(
        select(row_id).where(stored.isnot(None)).order_by(row_id.desc())
        .limit(2)).scalars().all()
    if not last_two:
        return
    rows = connection.execute(
        select(stored, *[as_stored(table.c[name], connection.dialect)
                         for name in chained])
        .where(row_id.between(min(last_two), max(last_two)))
        .order_by(row_id)).all()
    key = hashing.chain_key()
    link = chain.link_after(rows[:-1], key) if len(last_two) > 1 else None
    if hashing.chain_hash(link, rows[-1][1:], key) == rows[-1][0]:
        return
    if key is None:
        raise CommandError(
            'the chain of %s uses a key: set %s as the auditor has it'
            % (table.fullname, hashing.KEY_VARIABLE))
    raise CommandError(
        'the last chained row of %s does not follow with %s: a wrong key, '
        'or an edited history (run verify)'
        % (table.fullname, hashing.KEY_VARIABLE))
