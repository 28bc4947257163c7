"""The detail column values: which run, who ran it, where, how long each
step took, which script ran, and whether it failed (the error is
described by :mod:`.errors`).

:class:`DetailColumnValues` reads the facts of :mod:`.facts`, so any
history table can take these values, like those of
:class:`.CommonColumnValues`.
"""
import getpass
import socket
import warnings
from typing import Any
from typing import Optional

from . import dialects
from .errors import describe_failure
from .exc import UserVersionWarning
from .facts import process_fact
from .facts import run_of
from .facts import step_script
from .values import ERROR_LENGTH
from .values import FAILED
from .values import MESSAGE_LENGTH
from .values import OK
from .values import CommonColumnValues


class DetailColumnValues:
    """The detail values ``Auditor.create(details=True)`` records, one
    static method each, taking the ``on_version_apply`` keyword arguments
    like those of :class:`.CommonColumnValues`."""

    @staticmethod
    def run_id(ctx: Any = None, **_: Any) -> str:
        """A UUID (text) shared by every row of one Alembic command run."""
        return run_of(ctx).id

    @staticmethod
    def status(ctx: Any = None, **_: Any) -> str:
        """``'ok'`` for a step, ``'failed'`` for a failed attempt."""
        return FAILED if run_of(ctx).failure is not None else OK

    @staticmethod
    def db_user(ctx: Any = None, **_: Any) -> Any:
        """The database's session user (``CURRENT_USER``; on MySQL and
        MariaDB its user part), read once per run; None on SQLite.
        Offline, an SQL expression evaluated when the script runs."""
        if ctx.as_sql:
            return dialects.offline_session_user(ctx.dialect)
        return run_of(ctx).db_user(ctx.connection)

    @staticmethod
    def os_user(ctx: Any = None, **_: Any) -> Optional[str]:
        """The operating-system user running Alembic; None if unknown
        (and offline)."""
        if ctx.as_sql:
            return None
        return process_fact('os_user', getpass.getuser)

    @staticmethod
    def host(ctx: Any = None, **_: Any) -> Optional[str]:
        """The host name of the machine running Alembic; None if unknown
        (and offline)."""
        if ctx.as_sql:
            return None
        return process_fact('host', socket.gethostname)

    @staticmethod
    def duration_ms(ctx: Any = None, **_: Any) -> Optional[int]:
        """Milliseconds from the end of the previous step (or the start
        of the run) to the end of this one; None when the start is not
        known (an ``env.py`` without :meth:`.Auditor.run_migrations`) and
        offline."""
        if ctx.as_sql:
            return None
        duration = run_of(ctx).duration
        return None if duration is None else int(round(duration * 1000))

    @staticmethod
    def script_checksum(ctx: Any = None, step: Any = None,
                        **_: Any) -> Optional[str]:
        """The SHA-256 (hex) of the script that ran, line endings made
        ``\\n`` (a downgrade: the script whose downgrade ran; a stamp: its
        destination's); None without a file."""
        script = step_script(step)
        path = getattr(script, 'path', None)
        if path is None:
            return None
        return run_of(ctx).checksum(path)

    @staticmethod
    def message(step: Any = None, length: int = MESSAGE_LENGTH,
                **_: Any) -> Optional[str]:
        """The first line of the revision's message, at most ``length``
        characters."""
        script = step_script(step)
        doc: Optional[str]
        try:
            doc = script.doc if script is not None else None
        except Exception:
            doc = None
        if not doc:
            return None
        first_line: str = doc.strip().split('\n', 1)[0]
        return first_line[:length]

    @staticmethod
    def error(ctx: Any = None, length: int = ERROR_LENGTH,
              **_: Any) -> Optional[str]:
        """For a failed attempt, the exception's class and message with
        passwords hidden, at most ``length`` characters; None otherwise."""
        run = run_of(ctx)
        if run.failure is None:
            return None
        url = ctx.connection.engine.url if ctx.connection is not None \
            else None
        described: str = describe_failure(run.failure, url)
        return described[:length]

    @staticmethod
    def change_time(ctx: Any = None, **kw: Any) -> Any:
        """The time of the step in UTC; offline, an SQL expression of the
        time the script runs."""
        if ctx.as_sql:
            return dialects.offline_utc_now(ctx.dialect)
        return CommonColumnValues.change_time(**kw)


def user_version_without_step(make_row: Any, column: str, ctx: Any,
                              run_args: Any) -> Any:
    """The user version for a row that is no step (drift, a snapshot):
    the value ``make_row`` (a dict) gives column ``column``, a callable
    called without a step; None where it cannot be had."""
    if callable(make_row):
        return None
    value = make_row.get(column)
    if not callable(value):
        return value
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserVersionWarning)
        try:
            return value(ctx=ctx, step=None, heads=(), run_args=run_args)
        except Exception:
            return None
