"""The details of a run: which one, who ran it, where, how long each step
took, which script ran, and what failed.

Alembic tells ``on_version_apply`` about each step but nothing of the run
around it.  A :class:`Run` is kept per migration context (one per Alembic
command run) and :class:`DetailColumnValues` reads it, so any history
table can take these values, like those of :class:`.CommonColumnValues`.
"""
import getpass
import hashlib
import os
import re
import socket
import time
import uuid
import weakref

from .masking import MASK
from .masking import hide_secret_values
from .masking import secrets_of
from .values import CommonColumnValues

#: The values of ``status``.
OK = 'ok'
FAILED = 'failed'

#: How much of a failure's text ``error`` keeps, and of a revision's
#: message ``message`` keeps, by default.
ERROR_LENGTH = 2000
MESSAGE_LENGTH = 255

_runs = weakref.WeakKeyDictionary()


class Run:
    """What is known of one Alembic command run (one migration context)."""

    def __init__(self):
        self.id = str(uuid.uuid4())
        #: ``time.perf_counter()`` at the start, where it is known (see
        #: :meth:`.Auditor.run_migrations`), then at the end of each step.
        self.last_mark = None
        #: Seconds the step being recorded took, or None if unknown.
        self.duration = None
        #: The exception of the failed attempt being recorded, if any.
        self.failure = None
        self._db_user = _UNREAD
        self._checksums = {}

    def start(self):
        self.last_mark = time.perf_counter()

    def step_ended(self):
        """Note that a step (or a failed attempt) ended just now."""
        now = time.perf_counter()
        self.duration = (None if self.last_mark is None
                         else now - self.last_mark)
        self.last_mark = now

    def db_user(self, connection):
        if self._db_user is _UNREAD:
            self._db_user = _session_user(connection)
        return self._db_user

    def checksum(self, path):
        if path not in self._checksums:
            self._checksums[path] = script_checksum(path)
        return self._checksums[path]


_UNREAD = object()


def run_of(ctx):
    """The :class:`Run` of migration context ``ctx``."""
    run = _runs.get(ctx)
    if run is None:
        run = _runs[ctx] = Run()
    return run


def script_checksum(path):
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


def _session_user(connection):
    """The database's session user, once per run; None where the database
    has none (SQLite) or keeps it to itself."""
    from sqlalchemy import func
    from sqlalchemy import select
    name = connection.dialect.name
    if name in ('postgresql', 'mssql'):
        return connection.scalar(select(func.current_user()))
    if name in ('mysql', 'mariadb'):
        # 'user@host' of the account; its user part is the login.
        account = connection.scalar(select(func.current_user()))
        return account.rpartition('@')[0] if account else account
    return None


def _offline_session_user(dialect):
    from sqlalchemy import func
    if dialect.name in ('mysql', 'mariadb'):
        return func.substring_index(func.current_user(), '@', 1)
    if dialect.name in ('postgresql', 'mssql'):
        return func.current_user()
    return None


def _offline_utc_now(dialect):
    """An SQL expression of the current time in UTC, evaluated when the
    script runs."""
    from sqlalchemy import literal_column
    from sqlalchemy import text
    expressions = {
        'postgresql': "(CURRENT_TIMESTAMP AT TIME ZONE 'UTC')",
        'mysql': 'UTC_TIMESTAMP(6)',
        'mariadb': 'UTC_TIMESTAMP(6)',
        # As SQLAlchemy stores times: to the microsecond (here, the ms).
        'sqlite': "strftime('%Y-%m-%d %H:%M:%f000', 'now')",
        'mssql': 'SYSUTCDATETIME()',
        'oracle': 'SYS_EXTRACT_UTC(SYSTIMESTAMP)',
    }
    expression = expressions.get(dialect.name)
    if expression is None:
        return text('CURRENT_TIMESTAMP')
    return literal_column(expression)


_process = {}


def _process_fact(name, read):
    """A fact of this process (user, host), read once; None if it cannot
    be read (e.g. a container without a passwd entry)."""
    if name not in _process:
        try:
            _process[name] = read() or None
        except Exception:
            _process[name] = None
    return _process[name]


def _step_script(step):
    """The script of ``step`` that ran (a stamp: its one destination's),
    or None."""
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


def describe_failure(error, url=None):
    """``error`` as ``'module.Class: message'``, at most
    :data:`ERROR_LENGTH` characters, with no secret in it.

    For an error SQLAlchemy raised for a statement (a
    :class:`~sqlalchemy.exc.StatementError`, such as a ``DBAPIError``),
    the message is the driver's (``(module.Class) message`` of its
    ``orig``): the statement and its bound parameters are left out, and
    a text parameter the driver quotes in its message is hidden.  Any
    other message loses SQLAlchemy's ``[SQL: ...]`` and ``[parameters:
    ...]`` sections and what follows them.  Then every secret is hidden
    where it stands (:func:`.masking.hide_secret_values`: URLs, SQL
    password clauses, ``password=...`` settings), the passwords of
    ``url`` never as bare substrings of the text.
    """
    name = _class_name(type(error))
    message = _failure_message(error)
    found = _STATEMENT_DETAILS.search(message)
    if found is not None:
        message = message[:found.start()]
    text = '%s: %s' % (name, message) if message else name
    secrets = secrets_of(url) if url is not None else ()
    return hide_secret_values(text, secrets)[:ERROR_LENGTH]


# Where SQLAlchemy's str() of a StatementError appends the statement, its
# parameters and a link.
_STATEMENT_DETAILS = re.compile(
    r'\s*(?:\[SQL: |\[parameters: |\(Background on this error at: )')
#: How many text parameters :func:`describe_failure` hides at most.
_MAX_PARAMETERS = 1000


def _class_name(cls):
    name = cls.__qualname__
    if cls.__module__ not in ('builtins', '__main__'):
        name = '%s.%s' % (cls.__module__, name)
    return name


def _failure_message(error):
    from sqlalchemy.exc import StatementError
    orig = getattr(error, 'orig', None)
    if not isinstance(error, StatementError) or orig is None:
        return str(error)
    message = '(%s) %s' % (_class_name(type(orig)), orig)
    for value in _text_parameters(error.params):
        # As drivers quote a value: "tok", 'tok', Key (t)=(tok).
        message = re.sub(r'''(['"(])%s(?=['")])''' % re.escape(value),
                         lambda found: found.group(1) + MASK, message)
    return message


def _text_parameters(params):
    """The non-empty text values in ``params`` (a dict, a sequence, or a
    list of them for ``executemany``), longest first."""
    values, todo = set(), [params]
    while todo and len(values) < _MAX_PARAMETERS:
        item = todo.pop()
        if isinstance(item, str):
            if item:
                values.add(item)
        elif isinstance(item, dict):
            todo.extend(item.values())
        elif isinstance(item, (list, tuple)):
            todo.extend(item)
    return sorted(values, key=len, reverse=True)


class DetailColumnValues:
    """The detail values ``Auditor.create(details=True)`` records, one
    static method each, taking the ``on_version_apply`` keyword arguments
    like those of :class:`.CommonColumnValues`."""

    @staticmethod
    def run_id(ctx=None, **_):
        """A UUID (text) shared by every row of one Alembic command run."""
        return run_of(ctx).id

    @staticmethod
    def status(ctx=None, **_):
        """``'ok'`` for a step, ``'failed'`` for a failed attempt."""
        return FAILED if run_of(ctx).failure is not None else OK

    @staticmethod
    def db_user(ctx=None, **_):
        """The database's session user (``CURRENT_USER``; on MySQL and
        MariaDB its user part), read once per run; None on SQLite.
        Offline, an SQL expression evaluated when the script runs."""
        if ctx.as_sql:
            return _offline_session_user(ctx.dialect)
        return run_of(ctx).db_user(ctx.connection)

    @staticmethod
    def os_user(ctx=None, **_):
        """The operating-system user running Alembic; None if unknown
        (and offline)."""
        if ctx.as_sql:
            return None
        return _process_fact('os_user', getpass.getuser)

    @staticmethod
    def host(ctx=None, **_):
        """The host name of the machine running Alembic; None if unknown
        (and offline)."""
        if ctx.as_sql:
            return None
        return _process_fact('host', socket.gethostname)

    @staticmethod
    def duration_ms(ctx=None, **_):
        """Milliseconds from the end of the previous step (or the start
        of the run) to the end of this one; None when the start is not
        known (an ``env.py`` without :meth:`.Auditor.run_migrations`) and
        offline."""
        if ctx.as_sql:
            return None
        duration = run_of(ctx).duration
        return None if duration is None else int(round(duration * 1000))

    @staticmethod
    def script_checksum(ctx=None, step=None, **_):
        """The SHA-256 (hex) of the script that ran, line endings made
        ``\\n`` (a downgrade: the script whose downgrade ran; a stamp: its
        destination's); None without a file."""
        script = _step_script(step)
        path = getattr(script, 'path', None)
        if path is None:
            return None
        return run_of(ctx).checksum(path)

    @staticmethod
    def message(step=None, length=MESSAGE_LENGTH, **_):
        """The first line of the revision's message, at most ``length``
        characters."""
        script = _step_script(step)
        try:
            doc = script.doc if script is not None else None
        except Exception:
            doc = None
        if not doc:
            return None
        return doc.strip().split('\n', 1)[0][:length]

    @staticmethod
    def error(ctx=None, length=ERROR_LENGTH, **_):
        """For a failed attempt, the exception's class and message with
        passwords hidden, at most ``length`` characters; None otherwise."""
        run = run_of(ctx)
        if run.failure is None:
            return None
        url = ctx.connection.engine.url if ctx.connection is not None \
            else None
        return describe_failure(run.failure, url)[:length]

    @staticmethod
    def change_time(ctx=None, **kw):
        """The time of the step in UTC; offline, an SQL expression of the
        time the script runs."""
        if ctx.as_sql:
            return _offline_utc_now(ctx.dialect)
        return CommonColumnValues.change_time(**kw)


class FailedAttempt:
    """Stands for the step of a failed attempt where the value functions
    take a step: it ran ``revision_id``'s script in one direction, from
    the revisions the database is at after the rollback."""

    is_stamp = False
    is_migration = True

    def __init__(self, revision_map, revision_id, is_upgrade, heads):
        self.revision_map = revision_map
        self.is_upgrade = is_upgrade
        self.up_revision_id = revision_id
        self.up_revision_ids = (revision_id,) if revision_id else ()
        self.source_revision_ids = tuple(heads)
        self.destination_revision_ids = self.up_revision_ids


def failed_script(error, scripts):
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


def _is_script_of(frame, revision, scripts):
    path = frame.f_globals.get('__file__')
    if scripts is None or path is None:
        return path is not None and 'down_revision' in frame.f_globals
    try:
        script = scripts.get_revision(revision)
    except Exception:
        return False
    return script is not None and os.path.realpath(script.path) == \
        os.path.realpath(path)
