"""Every exception and warning Audit-Alembic raises, the command line's too.

The ``Audit*`` names and :class:`UserVersionWarning` are those of
Audit-Alembic 0.2.0.  :class:`TableSetupError` is also an Alembic
``CommandError``: it is defined when first used, so that importing this
module (as the command line does on start) loads no Alembic.
"""
import threading
from typing import Any


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
    password masked, shown without a traceback.

    The command could not do its work (an unreachable database, a bad
    config, a missing table): exit status 2, as for a usage error.
    """
    #: The exit status of ``audit-alembic`` when this ends it.
    exit_status: int = 2


class CheckFailed(CommandError):
    """The command did its work and found something wrong: a database
    behind its head (``status --expect-head``), a check of ``verify``
    that failed.  One line as for :class:`CommandError`, exit status 1."""
    exit_status = 1


def _define_table_setup_error() -> type[AuditSetupError]:
    from alembic.util.exc import CommandError as AlembicCommandError

    class TableSetupError(AuditSetupError, AlembicCommandError):
        """The history table lacks columns and they cannot be added.

        Also an Alembic ``CommandError``, so that the ``alembic`` command
        shows its one-line message rather than a traceback."""

    TableSetupError.__qualname__ = 'TableSetupError'
    return TableSetupError


_lock = threading.Lock()


def __getattr__(name: str) -> Any:
    # TableSetupError: defined once, when first asked for.
    if name != 'TableSetupError':
        raise AttributeError('module %r has no attribute %r'
                             % (__name__, name))
    with _lock:
        if name not in globals():
            globals()[name] = _define_table_setup_error()
    return globals()[name]
