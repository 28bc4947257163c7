"""A failed attempt: which script failed, and recording it without touching
the user's own failure.

A failed attempt stands for a step where the value functions take one
(:class:`FailedAttempt`): the revision whose script raised, from the
traceback (:func:`failed_script`), else the revision the command was
asked for (:func:`requested_target`).

:meth:`.Auditor.run_migrations` records a failed attempt through
:func:`record_attempt`, under two rules: the user's exception propagates
alone and unchanged, and the auditor never keeps waiting a deploy that
bare Alembic would end.  So the row goes on a fresh connection of the
same engine where the server ended the step's session (:func:`recording`),
the recording waits for locks at most :data:`RECORD_TIMEOUT` seconds
(:func:`.waits.bounded` holds every per-dialect means of that), and the
caller gives up at once on a second Ctrl-C.
"""
import contextlib
import os
from types import FrameType
from typing import TYPE_CHECKING
from typing import Any
from typing import Callable
from typing import Iterable
from typing import Iterator
from typing import Mapping
from typing import Optional
from typing import Union
from typing import cast

from . import facts
from . import logs
from . import values
from .errors import failure_summary
from .waits import bounded
from .waits import quietly
from .waits import usable

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

#: A row: column name -> value.
Row = dict[str, Any]
#: Builds a row from the hook's keyword arguments (``Auditor.make_row``).
MakeRow = Callable[..., Row]
#: Writes a row: ``write(connection, ctx, row)``.
Write = Callable[['Connection', Any, Row], None]

#: Seconds that recording a failed attempt may wait for locks (and any
#: one of its statements may take) before it gives up with a warning.
RECORD_TIMEOUT = 5


def record_attempt(ctx: Any, error: BaseException, run_args: Mapping[str, Any],
                   callers_transaction: bool, make_row: MakeRow,
                   write: Write, table_name: str) -> None:
    """Record ``error``, raised by the migrations of ``ctx``, as a failed
    attempt: its row, built by ``make_row`` (taking the hook's keyword
    arguments, with a :class:`FailedAttempt` as the step), is written by
    ``write(connection, ctx, row)`` on the connection :func:`recording`
    gives, into table ``table_name``.

    Never raises: a problem, or Ctrl-C meanwhile, is logged as one
    warning, and the caller re-raises ``error`` itself.
    """
    if refused_by_alembic(ctx, error):
        logs.auditor().debug('not an attempt, Alembic refused the command: '
                             '%s', error)
        return
    facts.run_of(ctx).step_ended()
    try:
        with recording(ctx, callers_transaction) as connection:
            revision = _write_attempt(ctx, error, run_args, connection,
                                      make_row, write)
    except KeyboardInterrupt:
        logs.auditor().warning('interrupted: the failed attempt was not '
                               'recorded in %s', table_name)
    except Exception as problem:
        logs.auditor().warning(
            'could not record the failed attempt in %s: %s', table_name,
            failure_summary(problem, ctx.connection.engine.url))
    else:
        logs.auditor().info('recorded a failed attempt at %s in %s',
                            revision, table_name)


def _write_attempt(ctx: Any, error: BaseException,
                   run_args: Mapping[str, Any], connection: 'Connection',
                   make_row: MakeRow, write: Write) -> Optional[str]:
    """Write the row of the failed attempt on ``connection`` (which is
    ``ctx.connection``); return the revision it names."""
    heads = ctx.get_current_heads()
    scripts = getattr(ctx.environment_context, 'script', None)
    revision, is_upgrade = failed_script(error, scripts)
    if revision is None:
        revision, is_upgrade = requested_target(ctx, scripts), True
    assert is_upgrade is not None  # found with the revision
    step = FailedAttempt(getattr(scripts, 'revision_map', None), revision,
                         is_upgrade, heads)
    run = facts.run_of(ctx)
    run.failure = error
    try:
        row = make_row(ctx=ctx, step=step, heads=heads, run_args=run_args)
    finally:
        run.failure = None
    write(connection, ctx, row)
    return revision


@contextlib.contextmanager
def recording(ctx: Any,
              callers_transaction: bool) -> Iterator['Connection']:
    """The connection to write ``ctx``'s failed attempt on, in a
    transaction :func:`bounded` by :data:`RECORD_TIMEOUT`, committed at the
    end unless it is the caller's.

    The step's own transaction is rolled back first.  Where the step's
    connection is unusable, a fresh one of the same engine stands in for
    it as ``ctx.connection`` (the dead session's transaction is over,
    the caller's too), and is closed at the end.
    """
    step_connection = ctx.connection
    if not callers_transaction and step_connection.in_transaction():
        # Without I/O if invalidated; a rollback that finds the server
        # gone invalidates it.
        quietly(step_connection.rollback)
    connection = step_connection
    if not usable(step_connection):
        connection = step_connection.engine.connect()
        ctx.connection = ctx.impl.connection = connection
    own = connection is not step_connection or not callers_transaction
    try:
        with bounded(connection, RECORD_TIMEOUT):
            yield connection
        if own:
            connection.commit()
    except BaseException:
        if own and usable(connection):
            quietly(connection.rollback)
        raise
    finally:
        if connection is not step_connection:
            ctx.connection = ctx.impl.connection = step_connection
            quietly(connection.close)


class FailedAttempt:
    """Stands for the step of a failed attempt where the value functions
    take a step: it ran ``revision_id``'s script in one direction, from
    the revisions the database is at after the rollback.

    Its attributes are those of Alembic's ``MigrationInfo`` that the value
    functions read, with the same meaning where the attempt allows.
    """

    #: False: a failed attempt ran a script (``MigrationInfo.is_stamp``).
    is_stamp = False
    #: True: it ran a script (``MigrationInfo.is_migration``).
    is_migration = True

    def __init__(self, revision_map: Any, revision_id: Optional[str],
                 is_upgrade: bool, heads: Iterable[str]) -> None:
        #: The revision map the attempt was made in (``MigrationInfo.
        #: revision_map``), or None where the scripts are unknown.
        self.revision_map = revision_map
        #: Whether the script's ``upgrade()`` ran, not its ``downgrade()``
        #: (``MigrationInfo.is_upgrade``).
        self.is_upgrade = is_upgrade
        #: The revision whose script ran, or None where it is unknown
        #: (``MigrationInfo.up_revision_id``).
        self.up_revision_id = revision_id
        #: That revision alone, or no revision where it is unknown
        #: (``MigrationInfo.up_revision_ids``).
        self.up_revision_ids: tuple[str, ...] = (
            (revision_id,) if revision_id else ())
        #: The heads the database is at, before and after the attempt,
        #: whose transaction was rolled back
        #: (``MigrationInfo.source_revision_ids``).
        self.source_revision_ids = tuple(heads)
        #: :attr:`up_revision_ids` in either direction: an attempt moves
        #: nothing, so its row names the revision whose script failed as
        #: where it led (``MigrationInfo.destination_revision_ids``).
        self.destination_revision_ids = self.up_revision_ids


def refused_by_alembic(ctx: Any, error: BaseException) -> bool:
    """Whether ``error`` is Alembic refusing the command (a revision it
    cannot find, several heads where one is needed: its
    ``CommandError``) with no script of the run's raising it: no attempt
    at a migration, so no row."""
    from alembic.util.exc import CommandError
    if not isinstance(error, CommandError):
        return False
    scripts = getattr(ctx.environment_context, 'script', None)
    return failed_script(error, scripts) == (None, None)


def failed_script(
        error: BaseException, scripts: Any
) -> Union[tuple[str, bool], tuple[None, None]]:
    """``(revision_id, is_upgrade)`` of the revision script whose
    ``upgrade()`` or ``downgrade()`` raised ``error``, from its
    traceback; ``(None, None)`` if it was raised elsewhere."""
    tb = error.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        revision = frame.f_globals.get('revision')
        name = frame.f_code.co_name
        if (isinstance(revision, str) and
                name.startswith(('upgrade', 'downgrade')) and
                _is_script_of(frame, revision, scripts)):
            return revision, not name.startswith('downgrade')
        tb = tb.tb_next
    return None, None


def _is_script_of(frame: FrameType, revision: str, scripts: Any) -> bool:
    path = frame.f_globals.get('__file__')
    if scripts is None or path is None:
        return path is not None and 'down_revision' in frame.f_globals
    try:
        script = scripts.get_revision(revision)
    except Exception:
        return False
    return script is not None and os.path.realpath(script.path) == \
        os.path.realpath(path)


def requested_target(ctx: Any, scripts: Any) -> Optional[str]:
    """The revision the command was asked for, where the failed script
    cannot be told from the traceback."""
    try:
        argument = ctx.environment_context.get_revision_argument()
    except Exception:
        return None
    if scripts is not None:
        try:
            found = scripts.get_revisions(argument)
        except Exception:
            found = ()
        if len(found) == 1 and found[0] is not None:
            return cast(str, found[0].revision)
    if isinstance(argument, (tuple, list)):
        argument = values.DEFAULT_SEPARATOR.join(argument)
    return cast(Optional[str], argument)
