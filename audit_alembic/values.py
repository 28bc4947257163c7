"""Column values computed from Alembic's ``on_version_apply`` arguments.

Each function accepts the keyword arguments Alembic passes to the hook
(``ctx``, ``step``, ``heads``, ``run_args``), so any of them can be used
as a column value of :meth:`.Auditor.create` or of a ``make_row`` dict.
"""
import datetime

DEFAULT_SEPARATOR = '##'


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
        """``'stamp'`` or ``'migration'``: whether the step ran a script."""
        return 'stamp' if step.is_stamp else 'migration'

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
