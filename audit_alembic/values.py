"""Column values computed from Alembic's ``on_version_apply`` arguments.

Each function accepts the keyword arguments Alembic passes to the hook
(``ctx``, ``step``, ``heads``, ``run_args``), so any of them can be used
as a column value of :meth:`.Auditor.create` or of a ``make_row`` dict.
"""
import datetime

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
ROW_HASH_COLUMN = 'row_hash'
DETAIL_COLUMNS = (RUN_ID_COLUMN, STATUS_COLUMN, DB_USER_COLUMN,
                  OS_USER_COLUMN, HOST_COLUMN, DURATION_COLUMN,
                  CHECKSUM_COLUMN, MESSAGE_COLUMN, ERROR_COLUMN,
                  ROW_HASH_COLUMN)
#: The values a row's ``row_hash`` covers, in this order, by role (the
#: column names of ``Auditor.create``'s defaults): every column but the
#: id and the hash itself.
CHAINED = (NEW_VERSION_COLUMN, OLD_VERSION_COLUMN, OPERATION_COLUMN,
           DIRECTION_COLUMN, USER_VERSION_COLUMN, CHANGE_TIME_COLUMN,
           RUN_ID_COLUMN, STATUS_COLUMN, DB_USER_COLUMN, OS_USER_COLUMN,
           HOST_COLUMN, DURATION_COLUMN, CHECKSUM_COLUMN, MESSAGE_COLUMN,
           ERROR_COLUMN)


class CommonColumnValues:
    """The values :meth:`.Auditor.create` records, one static method each.

    They are public so that a custom history table can be filled the same
    way, e.g. ``{'applied_at': CommonColumnValues.change_time}``.
    """

    @staticmethod
    def change_time(**_):
        """The current time in UTC, as a naive ``datetime``.

        Naive so that every backend stores it unchanged whatever the
        session time zone; it is UTC by contract.
        """
        now = datetime.datetime.now(datetime.timezone.utc)
        return now.replace(tzinfo=None)

    @staticmethod
    def operation_type(step=None, **_):
        """``'stamp'`` or ``'migration'``: whether the step ran a script.

        :raise .exc.AuditRuntimeError: for a step that is neither, as
            0.2.0 does.
        """
        if step.is_stamp:
            return 'stamp'
        if step.is_migration:
            return 'migration'
        raise exc.AuditRuntimeError(
            'Unknown migration type %s' % (step.up_revision_id,))

    @staticmethod
    def operation_direction(step=None, **_):
        """``'up'`` or ``'down'``."""
        return 'up' if step.is_upgrade else 'down'

    @staticmethod
    def new_alembic_version(step=None, separator=DEFAULT_SEPARATOR, **_):
        """The revision(s) the step leads to, sorted, joined by
        ``separator``."""
        return separator.join(sorted(step.destination_revision_ids))

    @staticmethod
    def old_alembic_version(step=None, separator=DEFAULT_SEPARATOR, **_):
        """The revision(s) the step starts from, sorted, joined by
        ``separator``."""
        return separator.join(sorted(step.source_revision_ids))
