"""Every exception and warning Audit-Alembic raises, the command line's too.

The ``Audit*`` names and :class:`UserVersionWarning` are those of
Audit-Alembic 0.2.0.
"""


class AuditError(Exception):
    """Base class of every error raised by Audit-Alembic."""


class AuditConstructError(AuditError):
    """An :class:`.Auditor` was given arguments it cannot work with."""


class AuditCreateError(AuditError):
    """:meth:`.Auditor.create` was asked to define an impossible table."""


class AuditRuntimeError(AuditError):
    """A row could not be built while a migration step was recorded."""


class AuditSetupError(AuditError):
    """The database or the environment cannot record migrations.

    Exported by 0.2.0 (which never raised it); kept so that code catching
    it keeps importing.
    """


class UserVersionWarning(UserWarning):
    """A step is being recorded without a user (application) version."""


class CommandError(AuditError):
    """A failure of the ``audit-alembic`` command line, or of opening a
    database for it or for the test runner: a one-line message with any
    password masked, shown without a traceback (exit status 1)."""
