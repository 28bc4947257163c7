"""The history table's vocabulary: its column roles and their names, the
values it stores, and :class:`CommonColumnValues`, which computes them.

The roles are registered once, in :data:`ROLES`: each with its default
column name (which names the role), the :meth:`.Auditor.create`
parameter renaming it, and whether a row's hash covers it.
:meth:`.Auditor.create`, the command line's table layout and ``verify``
all derive what they need from here (:data:`PARAMETERS`,
:data:`CHAINED`, :func:`chained_names`).

Each :class:`CommonColumnValues` function accepts the keyword arguments
Alembic passes to the hook (``ctx``, ``step``, ``heads``, ``run_args``),
so any of them can be used as a column value of :meth:`.Auditor.create`
or of a ``make_row`` dict.
"""
import collections
import datetime
from typing import Any
from typing import Container
from typing import Mapping
from typing import Optional

from . import exc

#: The history table :meth:`.Auditor.create` defines by default.
DEFAULT_TABLE_NAME = 'alembic_version_history'
#: Joins the revisions of a step that starts or ends at several heads.
DEFAULT_SEPARATOR = '##'
#: The names of the standard columns, as :meth:`.Auditor.create` names
#: them by default.
ID_COLUMN = 'id'
NEW_VERSION_COLUMN = 'alembic_version'
OLD_VERSION_COLUMN = 'prev_alembic_version'
OPERATION_COLUMN = 'operation_type'
DIRECTION_COLUMN = 'operation_direction'
USER_VERSION_COLUMN = 'user_version'
CHANGE_TIME_COLUMN = 'changed_at'
#: The names of the detail columns ``Auditor.create(details=True)`` adds,
#: in their order (see :class:`.DetailColumnValues`).
RUN_ID_COLUMN = 'run_id'
STATUS_COLUMN = 'status'
DB_USER_COLUMN = 'db_user'
OS_USER_COLUMN = 'os_user'
HOST_COLUMN = 'host'
DURATION_COLUMN = 'duration_ms'
CHECKSUM_COLUMN = 'script_checksum'
MESSAGE_COLUMN = 'message'
ERROR_COLUMN = 'error'
SCHEMA_HASH_COLUMN = 'schema_hash'
ROW_HASH_COLUMN = 'row_hash'

#: One column role: ``name``, its default column name (which names the
#: role); ``parameter``, the :meth:`.Auditor.create` parameter renaming
#: it (None: not renamed); ``chained``, whether a row's hash covers it;
#: ``detail``, whether ``details=True`` adds it.  A role whose
#: ``chained`` is :data:`WHEN_SET` is covered only where its value is not
#: NULL (it came after rows that lack it were chained).
Role = collections.namedtuple('Role', 'name parameter chained detail')
WHEN_SET = 'when set'

#: Every column role of the table :meth:`.Auditor.create` defines, in
#: the table's order: the standard columns, then the detail columns.
ROLES = (
    Role(ID_COLUMN, None, False, False),
    Role(NEW_VERSION_COLUMN, 'alembic_version_column_name', True, False),
    Role(OLD_VERSION_COLUMN, 'prev_alembic_version_column_name', True,
         False),
    Role(OPERATION_COLUMN, 'operation_column_name', True, False),
    Role(DIRECTION_COLUMN, 'direction_column_name', True, False),
    Role(USER_VERSION_COLUMN, 'user_version_column_name', True, False),
    Role(CHANGE_TIME_COLUMN, 'change_time_column_name', True, False),
    Role(RUN_ID_COLUMN, None, True, True),
    Role(STATUS_COLUMN, None, True, True),
    Role(DB_USER_COLUMN, None, True, True),
    Role(OS_USER_COLUMN, None, True, True),
    Role(HOST_COLUMN, None, True, True),
    Role(DURATION_COLUMN, None, True, True),
    Role(CHECKSUM_COLUMN, None, True, True),
    Role(MESSAGE_COLUMN, None, True, True),
    Role(ERROR_COLUMN, None, True, True),
    Role(SCHEMA_HASH_COLUMN, None, WHEN_SET, True),
    Role(ROW_HASH_COLUMN, None, False, True),
)
#: Role -> the :meth:`.Auditor.create` parameter that renames it (None
#: for the id), for the standard columns, those every history table of
#: :meth:`.Auditor.create` has.
PARAMETERS = {role.name: role.parameter for role in ROLES
              if not role.detail}
#: The names of the detail columns, in their order.
DETAIL_COLUMNS = tuple(role.name for role in ROLES if role.detail)
#: The values a row's ``row_hash`` always covers, in this order, by role
#: (the column names of ``Auditor.create``'s defaults): every column but
#: the id, the hash itself and those of :data:`CHAINED_WHEN_SET`.
CHAINED = tuple(role.name for role in ROLES if role.chained is True)
#: The values it covers after those, in this order, each only where it
#: is not NULL: rows chained before a column was added keep their hash.
CHAINED_WHEN_SET = tuple(role.name for role in ROLES
                         if role.chained == WHEN_SET)

#: What names the companion of a history table that keeps its schema
#: snapshots (see :func:`.schema.snapshot_table`), and its columns
#: besides ``schema_hash``.
SNAPSHOT_TABLE_SUFFIX = '_schema'
SNAPSHOT_COLUMN = 'snapshot'
FIRST_SEEN_COLUMN = 'first_seen'

#: The values of ``status``: a step, a failed attempt, and a script's
#: edit accepted after it ran (``audit-alembic accept``); a change of
#: the schema that no migration made, found at the start of a run; a
#: schema snapshot taken at the end of a run that wrote no row then
#: (see :mod:`.drift`).  The last three are no step, and their
#: ``operation_type`` is the same word.
OK = 'ok'
FAILED = 'failed'
ACCEPTED = 'accepted'
DRIFT = 'drift'
SNAPSHOT = 'snapshot'
#: The values of ``operation_direction``.
UP = 'up'
DOWN = 'down'
#: The values of ``operation_type``: a step that ran a script, a stamp.
MIGRATION = 'migration'
STAMP = 'stamp'
#: What stands for "no revision" where revisions are shown.
BASE = '<base>'
#: How much of a failure's text ``error`` keeps, and of a revision's
#: message ``message`` keeps, by default.
ERROR_LENGTH = 2000
MESSAGE_LENGTH = 255


def column_names(arguments: Mapping[str, Any]) -> dict[str, str]:
    """Role -> column name, from ``arguments`` (a mapping holding the
    renaming parameters of :meth:`.Auditor.create`, as its ``locals()``
    or the ``[audit_alembic]`` section of a config file do); a role
    whose parameter is absent keeps its default name."""
    return {role: arguments.get(parameter, role) if parameter else role
            for role, parameter in PARAMETERS.items()}


def chained_names(names: Mapping[str, str],
                  present: Optional[Container[str]] = None) -> list[str]:
    """The names of the columns a row's hash covers, in the order of
    :data:`CHAINED` then :data:`CHAINED_WHEN_SET`: ``names`` maps a role
    to its column name; a role it does not name has its default name.
    Given the names of the columns ``present`` in a table, those of
    :data:`CHAINED_WHEN_SET` it lacks are left out.  The writer
    (:meth:`.Auditor.create`) and the reader (``verify``) both use it,
    so that they cannot disagree."""
    chained = [names.get(role, role) for role in CHAINED]
    for role in CHAINED_WHEN_SET:
        name = names.get(role, role)
        if present is None or name in present:
            chained.append(name)
    return chained


class CommonColumnValues:
    """The values :meth:`.Auditor.create` records, one static method each.

    They are public so that a custom history table can be filled the same
    way, e.g. ``{'applied_at': CommonColumnValues.change_time}``.
    """

    @staticmethod
    def change_time(**_: Any) -> datetime.datetime:
        """The current time in UTC, as a naive ``datetime``.

        Naive so that every backend stores it unchanged whatever the
        session time zone; it is UTC by contract.
        """
        now = datetime.datetime.now(datetime.timezone.utc)
        return now.replace(tzinfo=None)

    @staticmethod
    def operation_type(step: Any = None, **_: Any) -> str:
        """``'stamp'`` or ``'migration'``: whether the step ran a script.

        :raise .exc.AuditRuntimeError: for a step that is neither, as
            0.2.0 does.
        """
        if step.is_stamp:
            return STAMP
        if step.is_migration:
            return MIGRATION
        raise exc.AuditRuntimeError(
            'Unknown migration type %s' % (step.up_revision_id,))

    @staticmethod
    def operation_direction(step: Any = None, **_: Any) -> str:
        """``'up'`` or ``'down'``."""
        return UP if step.is_upgrade else DOWN

    @staticmethod
    def new_alembic_version(step: Any = None,
                            separator: str = DEFAULT_SEPARATOR,
                            **_: Any) -> str:
        """The revision(s) the step leads to, sorted, joined by
        ``separator``."""
        return separator.join(sorted(step.destination_revision_ids))

    @staticmethod
    def old_alembic_version(step: Any = None,
                            separator: str = DEFAULT_SEPARATOR,
                            **_: Any) -> str:
        """The revision(s) the step starts from, sorted, joined by
        ``separator``."""
        return separator.join(sorted(step.source_revision_ids))
