"""What is known of a run (one migration context): its id, timing, steps
and database user; of this process: its user and host; and of a step:
the script that ran, and that script's checksum.

Alembic tells ``on_version_apply`` about each step but nothing of the run
around it: a :class:`Run` is kept per migration context, found by
:func:`run_of`.
"""
import hashlib
import os
import time
import uuid
import weakref
from typing import Any
from typing import Callable
from typing import Optional

from . import compat
from . import dialects

_runs: 'weakref.WeakKeyDictionary[Any, Run]' = weakref.WeakKeyDictionary()


class Run:
    """What is known of one Alembic command run (one migration context)."""

    def __init__(self) -> None:
        self.id = str(uuid.uuid4())
        #: ``time.perf_counter()`` at the start, where it is known (see
        #: :meth:`.Auditor.run_migrations`), then at the end of each step.
        self.last_mark: Optional[float] = None
        #: Seconds the step being recorded took, or None if unknown.
        self.duration: Optional[float] = None
        #: The exception of the failed attempt being recorded, if any.
        self.failure: Optional[BaseException] = None
        #: How many steps the run applies, where known (see
        #: :func:`.compat.planned_steps`), and how many it applied.
        self.steps_planned: Optional[int] = None
        self.steps_done = 0
        #: Whether a row of the run carries the schema after it.
        self.schema_recorded = False
        self._db_user: Any = _UNREAD
        self._checksums: dict[str, Optional[str]] = {}

    def start(self) -> None:
        self.last_mark = time.perf_counter()

    def step_ended(self) -> None:
        """Note that a step (or a failed attempt) ended just now."""
        now = time.perf_counter()
        self.duration = (None if self.last_mark is None
                         else now - self.last_mark)
        self.last_mark = now

    def last_step_done(self, ctx: Any, step: Any, heads: Any) -> bool:
        """Note ``step`` applied (the hook's arguments); return whether
        it is the run's last."""
        if self.steps_done == 0:
            # The heads the run started at, from those after its first
            # step.
            started = (set(heads) - set(step.destination_revision_ids) |
                       set(step.source_revision_ids))
            self.steps_planned = compat.planned_steps(ctx, sorted(started))
        self.steps_done += 1
        return self.steps_done == self.steps_planned

    def db_user(self, connection: Any) -> Optional[str]:
        if self._db_user is _UNREAD:
            self._db_user = dialects.session_user(connection)
        user: Optional[str] = self._db_user
        return user

    def checksum(self, path: str) -> Optional[str]:
        if path not in self._checksums:
            self._checksums[path] = cached_checksum(path)
        return self._checksums[path]


_UNREAD = object()


def run_of(ctx: Any) -> Run:
    """The :class:`Run` of migration context ``ctx``."""
    last_ctx, last_run = _last_run
    if last_ctx() is ctx:
        return last_run
    run = _runs.get(ctx)
    if run is None:
        run = _runs[ctx] = Run()
    _remember_run(ctx, run)
    return run


def _remember_run(ctx: Any, run: Run) -> None:
    """Make ``run`` the one :func:`run_of` finds first, for ``ctx`` (the
    columns of a row ask for it one after the other)."""
    global _last_run
    try:
        _last_run = (weakref.ref(ctx), run)
    except TypeError:  # a context that takes no weak reference
        pass


#: The context :func:`run_of` was last asked about (weakly) and its run.
_last_run: tuple[Callable[[], Any], Run] = (lambda: _UNREAD, Run())


def script_checksum(path: str) -> Optional[str]:
    """The SHA-256 (hex) of file ``path`` with its line endings made
    ``\\n``, so that a checkout with Windows line endings gives the same
    value; None if there is no such file."""
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError:
        return None
    return hashlib.sha256(
        data.replace(b'\r\n', b'\n').replace(b'\r', b'\n')).hexdigest()


#: path -> ((mtime_ns, size), checksum) of the scripts read so far.
_checksums: dict[str, tuple[tuple[int, int], Optional[str]]] = {}


def cached_checksum(path: str) -> Optional[str]:
    """:func:`script_checksum` of ``path``, read once per process while
    the file keeps its modification time and size."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    key = (stat.st_mtime_ns, stat.st_size)
    known = _checksums.get(path)
    if known is not None and known[0] == key:
        return known[1]
    checksum = script_checksum(path)
    if checksum is not None:
        _checksums[path] = (key, checksum)
    return checksum


_process: dict[str, Optional[str]] = {}


def process_fact(name: str,
                 read: Callable[[], Optional[str]]) -> Optional[str]:
    """A fact of this process (user, host), read once; None if it cannot
    be read (e.g. a container without a passwd entry)."""
    if name not in _process:
        try:
            _process[name] = read() or None
        except Exception:
            _process[name] = None
    return _process[name]


def step_script(step: Any) -> Any:
    """The script of ``step`` that ran (a stamp: its one destination's),
    or None; looked up once for the step's columns."""
    global _last_script
    last_step, last_script = _last_script
    if last_step is step:
        return last_script
    script = _find_step_script(step)
    _last_script = (step, script)
    return script


#: The step :func:`step_script` last looked up, and its script.
_last_script: tuple[Any, Any] = (_UNREAD, None)


def _find_step_script(step: Any) -> Any:
    if step.is_stamp:
        ids = step.destination_revision_ids
        if len(ids) != 1:
            return None
        revision_id = ids[0]
    else:
        revision_id = step.up_revision_id
    try:
        return step.revision_map.get_revision(revision_id)
    except Exception:
        return None
