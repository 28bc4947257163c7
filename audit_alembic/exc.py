"""Exceptions and warnings raised by Audit-Alembic."""


class AuditError(Exception):
    """Base class of every error raised by Audit-Alembic."""


class AuditConstructError(AuditError):
    """An :class:`.Auditor` was given arguments it cannot work with."""


class AuditCreateError(AuditError):
    """:meth:`.Auditor.create` was asked to define an impossible table."""


class AuditRuntimeError(AuditError):
    """A row could not be built while a migration step was recorded."""


class AuditSetupError(AuditError):
    """The environment cannot record migrations (e.g. Alembic too old)."""


class UserVersionWarning(UserWarning):
    """A step is being recorded without a user (application) version."""
