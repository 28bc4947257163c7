"""Every row as an event: each row an :class:`.Auditor` writes (a step's
``'ok'``, a ``'failed'`` attempt, ``'drift'`` and ``'snapshot'``) is also
logged on the logger ``audit_alembic.events`` (:data:`EVENTS`) at INFO,
once its transaction has committed, never for a row rolled back.

A record carries a one-line message, e.g. ``upgrade ae1027a6acf ->
27c6a30d7c24 ok (run 3706fdba, 8 ms) in alembic_version_history``, and:

``audit``
    the row's values by role (the names of :data:`.values.ROLES`, the
    default column names; a column of no role keeps its name), JSON-safe:
    text, numbers and None as they are, times as ISO 8601 UTC text ending
    in ``Z`` (the chain's canonical text of :func:`.hashing.canonical_row`
    followed by ``Z``), anything else as its ``str()``.  The id, which
    the database gives, is not among them.
``audit_table``
    the name of the history table.
``audit_alembic.<role>``
    each value of ``audit`` that is not None again, as an attribute of its
    own: what OpenTelemetry's ``LoggingHandler`` turns into the log
    record's attributes.

When each is emitted, and why never for a row rolled back:
:mod:`.committed`.

Nothing is built, nor listened to, while the logger is not enabled for
INFO.

:class:`JsonFormatter` writes the records as JSON lines; importing it
loads only the standard library.  OpenTelemetry needs nothing from here:
this module imports none of it.
"""
import datetime
import json
import logging
from typing import Any
from typing import Mapping
from typing import Optional

from . import values

#: The name of the logger the rows are emitted on.
EVENTS = 'audit_alembic.events'
#: What prefixes the flat attributes of a record, one per value.
ATTRIBUTE_PREFIX = 'audit_alembic.'

#: A row: column name -> value.
Row = dict[str, Any]

logger = logging.getLogger(EVENTS)


def audit_values(row: Mapping[str, Any],
                 roles: Mapping[str, str]) -> dict[str, Any]:
    """``row`` (column name -> value) by role, JSON-safe; ``roles`` maps
    a column name to its role where they differ."""
    return {roles.get(name, name): json_safe(value)
            for name, value in row.items()}


def json_safe(value: Any) -> Any:
    """``value`` as JSON holds it: text, numbers, booleans and None as
    they are, times as ISO 8601 UTC text ending in ``Z`` (naive times are
    UTC), anything else as its ``str()``."""
    if value is None or isinstance(value, (str, int, float)):
        return value
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(
                tzinfo=None)
        return value.isoformat(timespec='microseconds') + 'Z'
    if isinstance(value, bytes):
        return value.decode('utf-8', 'replace')
    return str(value)


def message(audit: Mapping[str, Any], table: str) -> str:
    """The one-line text of a row's event, e.g. ``upgrade A -> B ok (run
    3706fdba, 8 ms) in alembic_version_history``."""
    kind = audit.get(values.OPERATION_COLUMN)
    new = audit.get(values.NEW_VERSION_COLUMN) or values.BASE
    old = audit.get(values.OLD_VERSION_COLUMN) or values.BASE
    status = audit.get(values.STATUS_COLUMN)
    if kind == values.MIGRATION:
        verb = ('downgrade' if audit.get(values.DIRECTION_COLUMN) ==
                values.DOWN else 'upgrade')
        text = '%s %s -> %s' % (verb, old, new)
    elif kind == values.STAMP:
        text = 'stamp %s -> %s' % (old, new)
    else:  # 'drift', 'snapshot': no step, at the revisions of the time
        text = '%s at %s' % (kind or status, new)
    if status is not None and status != kind:
        text += ' %s' % (status,)
    notes = []
    run_id = audit.get(values.RUN_ID_COLUMN)
    if run_id:
        notes.append('run %s' % (str(run_id)[:8],))
    duration = audit.get(values.DURATION_COLUMN)
    if duration is not None:
        notes.append('%s ms' % (duration,))
    if notes:
        text += ' (%s)' % ', '.join(notes)
    return '%s in %s' % (text, table)


def document(audit: Mapping[str, Any], table: str,
             timestamp: Optional[str]) -> dict[str, Any]:
    """The JSON object of a row's event, as :class:`JsonFormatter` writes
    it and ``audit-alembic history --format jsonl`` prints it: the
    ``timestamp`` given, ``level``, ``logger``, ``message``, ``table``
    and ``audit``."""
    return {'timestamp': timestamp, 'level': 'INFO', 'logger': EVENTS,
            'message': message(audit, table), 'table': table,
            'audit': dict(audit)}


def emit(rows: list[Row], table: str, roles: Mapping[str, str]) -> None:
    """Log each of ``rows`` (written to ``table``, committed) as one
    record on :data:`EVENTS`."""
    if not logger.isEnabledFor(logging.INFO):
        return
    for row in rows:
        audit = audit_values(row, roles)
        extra: dict[str, Any] = {'audit': audit, 'audit_table': table}
        for role, value in audit.items():
            if value is not None:
                extra[ATTRIBUTE_PREFIX + role] = value
        logger.info(message(audit, table), extra=extra)


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON: ``timestamp`` (UTC, ISO 8601
    ending in ``Z``), ``level``, ``logger`` and ``message``, then, for the
    events of :data:`EVENTS`, ``table`` and the row's values (``audit``);
    ``exception`` where the record has one.

    Usable from ``logging.config.fileConfig`` (``class =
    audit_alembic.events.JsonFormatter`` in a ``[formatter_...]``
    section, as in ``alembic.ini``).
    """

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            'timestamp': datetime.datetime.fromtimestamp(
                record.created, datetime.timezone.utc).replace(
                    tzinfo=None).isoformat(timespec='microseconds') + 'Z',
            'level': record.levelname,
            'logger': record.name,
            'message': record.getMessage(),
        }
        table = getattr(record, 'audit_table', None)
        if table is not None:
            line['table'] = table
        audit = getattr(record, 'audit', None)
        if audit is not None:
            line['audit'] = audit
        if record.exc_info:
            line['exception'] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)
