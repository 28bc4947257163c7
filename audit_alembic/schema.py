"""The history table :meth:`.Auditor.create` defines: its column types,
columns, constraint and indexes, the value that fills each column, and
what a row must be to fit a table.

The column roles and their default names are registered in
:mod:`.values`; :func:`history_table` gives each role the name it is
given and the type and value it has.
"""
import datetime
import functools
import hashlib
import warnings
from typing import TYPE_CHECKING
from typing import Any
from typing import Callable
from typing import Iterable
from typing import Mapping
from typing import Optional

from sqlalchemy import BigInteger
from sqlalchemy import CheckConstraint
from sqlalchemy import Column
from sqlalchemy import DateTime
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import MetaData
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import Text
from sqlalchemy import TypeDecorator
from sqlalchemy import func

from . import dialects
from . import exc
from . import values
from .record import DetailColumnValues
from .values import ERROR_LENGTH
from .values import FIRST_SEEN_COLUMN
from .values import MESSAGE_LENGTH
from .values import SNAPSHOT_COLUMN
from .values import SNAPSHOT_TABLE_SUFFIX
from .values import CommonColumnValues

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect
    from sqlalchemy.types import TypeEngine

#: A column and the value that fills it (a constant or a callable taking
#: the hook's keyword arguments; None: filled otherwise).
ColumnValue = tuple['Column[Any]', Any]


def change_time_type(
        dialect: 'Dialect') -> 'TypeEngine[datetime.datetime]':
    """The type implementing a ``DateTime`` that keeps microseconds on
    ``dialect``; MySQL's dialect is loaded only where it is in use."""
    if dialects.server(dialect).times_need_a_precision:
        from sqlalchemy.dialects.mysql import DATETIME
        return DATETIME(fsp=6)
    return DateTime()


def long_text_type() -> 'TypeEngine[str]':
    """``Text``, but ``LONGTEXT`` where ``TEXT`` holds only 64 KB
    (MySQL, MariaDB); their dialect is loaded only when this is called."""
    from sqlalchemy.dialects.mysql import LONGTEXT
    return Text().with_variant(
        LONGTEXT(), *dialects.names_with(lambda known: known.text_is_short))


def id_type() -> 'TypeEngine[int]':
    """``BigInteger``, but ``Integer`` where only an ``INTEGER`` primary
    key autoincrements (SQLite)."""
    return BigInteger().with_variant(Integer, *dialects.names_with(
        lambda known: known.autoincrements_only_integer))


class ChangeTime(TypeDecorator[datetime.datetime]):
    """``DateTime``, keeping microseconds on MySQL/MariaDB too (plain
    ``DATETIME`` would round them away); their dialect is loaded only
    where it is in use."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: 'Dialect') -> 'TypeEngine[Any]':
        return dialect.type_descriptor(change_time_type(dialect))


CHANGE_TIME_TYPE = ChangeTime()
ID_TYPE = id_type()
REVISIONS_TYPE = String(255)


def detail_columns() -> list[ColumnValue]:
    """New ``(Column, value)`` pairs of the detail columns, as
    ``Auditor.create(details=True)`` adds them; all nullable, so that
    they can be added to an existing table."""
    message = Column(values.MESSAGE_COLUMN, String(MESSAGE_LENGTH))
    error = Column(values.ERROR_COLUMN, String(ERROR_LENGTH))
    return [
        (Column(values.RUN_ID_COLUMN, String(36)),
         DetailColumnValues.run_id),
        (Column(values.STATUS_COLUMN, String(16)),
         DetailColumnValues.status),
        (Column(values.DB_USER_COLUMN, String(255)),
         DetailColumnValues.db_user),
        (Column(values.OS_USER_COLUMN, String(255)),
         DetailColumnValues.os_user),
        (Column(values.HOST_COLUMN, String(255)), DetailColumnValues.host),
        (Column(values.DURATION_COLUMN, Integer),
         DetailColumnValues.duration_ms),
        (Column(values.CHECKSUM_COLUMN, String(64)),
         DetailColumnValues.script_checksum),
        (message, DetailColumnValues.message),
        (error, DetailColumnValues.error),
        # Filled at the end of a run (see .drift).
        (Column(values.SCHEMA_HASH_COLUMN, String(64)), None),
        # Filled as the row is written (online): see Auditor(chain=...).
        (Column(values.ROW_HASH_COLUMN, String(64)), None),
    ]


def snapshot_table(history: Table) -> Table:
    """The companion of table ``history`` that keeps each distinct schema
    snapshot once (see :mod:`.drift`): ``<history>_schema``, in the same
    schema and metadata, keyed by the snapshot's SHA-256, with its
    canonical JSON and when it was first seen (UTC)."""
    name = history.name + SNAPSHOT_TABLE_SUFFIX
    existing = history.metadata.tables.get(
        '%s.%s' % (history.schema, name) if history.schema else name)
    if existing is not None:
        return existing
    return Table(
        name, history.metadata,
        Column(values.SCHEMA_HASH_COLUMN, String(64), primary_key=True),
        # MySQL's TEXT holds 64 KB: a few hundred tables' worth.
        Column(SNAPSHOT_COLUMN, long_text_type(), nullable=False),
        Column(FIRST_SEEN_COLUMN, CHANGE_TIME_TYPE, nullable=False),
        schema=history.schema)


def index_name(table_name: str, schema: Optional[str],
               column_name: str) -> str:
    """The name of the index on ``column_name`` that ``details=True``
    adds: ``ix_aa_`` and a hash of the table's name, so that it collides
    neither with a user's index nor with another history table's."""
    full_name = '%s.%s' % (schema, table_name) if schema else table_name
    digest = hashlib.sha256(full_name.encode('utf-8')).hexdigest()[:10]
    return 'ix_aa_%s_%s' % (digest, column_name)


def row_checker(table: Table) -> Callable[[Mapping[str, Any]], None]:
    """A function of a row (a dict) that raises
    :class:`.exc.AuditRuntimeError` if the row does not fit ``table``:
    it names keys that are not columns of the table, or holds a string
    longer than its column does."""
    column_names = frozenset(table.c.keys())
    lengths: dict[str, int] = {}
    for column in table.c:
        length = getattr(column.type, 'length', None)
        if length:
            lengths[column.key] = length

    def check_row(row: Mapping[str, Any]) -> None:
        if not column_names.issuperset(row):
            unknown = sorted(str(key) for key in row
                             if key not in column_names)
            raise exc.AuditRuntimeError(
                'make_row gave values for %s, not column%s of table %s' % (
                    ', '.join(unknown), 's' if len(unknown) > 1 else '',
                    table.name))
        for key, length in lengths.items():
            value = row.get(key)
            if isinstance(value, str) and len(value) > length:
                raise exc.AuditRuntimeError(
                    'value for column %s of table %s is %d characters '
                    'long; the column holds at most %d' % (
                        key, table.name, len(value), length))
    return check_row


def warn_null_user_version(stacklevel: int = 3) -> None:
    """Warn with :class:`.exc.UserVersionWarning` that a step is recorded
    without a user version (``stacklevel`` as for :func:`warnings.warn`,
    counted from the caller)."""
    warnings.warn('null user version', exc.UserVersionWarning,
                  stacklevel=stacklevel)


def _warning_when_none(
        user_version: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a user version callable so that a ``None`` result warns."""
    @functools.wraps(user_version)
    def checked_user_version(**kw: Any) -> Any:
        value = user_version(**kw)
        if value is None:
            warn_null_user_version()
        return value
    return checked_user_version


def history_table(names: Mapping[str, str], table_name: str,
                  metadata: Optional[MetaData], user_version: Any,
                  user_version_nullable: bool,
                  user_version_type: 'TypeEngine[Any]', separator: str,
                  extra_columns: Iterable[ColumnValue], details: bool
                  ) -> tuple[Table, dict[str, Any]]:
    """The table of :meth:`.Auditor.create` and its column values: a
    ``(Table, {column name: value})`` pair.  ``names`` maps each standard
    column's role to its name (see :func:`.values.column_names`); the
    other arguments are :meth:`.Auditor.create`'s.

    :raise .exc.AuditCreateError: if a column name is used twice.
    """
    if not user_version_nullable:
        if user_version is None:
            # Shown where Auditor.create was called.
            warn_null_user_version(stacklevel=4)
        elif callable(user_version):
            user_version = _warning_when_none(user_version)
    new_version = Column(names[values.NEW_VERSION_COLUMN], REVISIONS_TYPE)
    old_version = Column(names[values.OLD_VERSION_COLUMN], REVISIONS_TYPE)
    change_time: Column[datetime.datetime] = Column(
        names[values.CHANGE_TIME_COLUMN], CHANGE_TIME_TYPE)
    operation = Column(names[values.OPERATION_COLUMN], String(32),
                       nullable=False)
    direction = Column(names[values.DIRECTION_COLUMN], String(32),
                       nullable=False)
    user_version_column = Column(names[values.USER_VERSION_COLUMN],
                                 user_version_type)
    columns: list[Column[Any]] = [
        Column(names[values.ID_COLUMN], ID_TYPE, primary_key=True),
        new_version, old_version, operation, direction,
        user_version_column, change_time]
    column_values: dict[str, Any] = {
        new_version.name: functools.partial(
            CommonColumnValues.new_alembic_version, separator=separator),
        old_version.name: functools.partial(
            CommonColumnValues.old_alembic_version, separator=separator),
        operation.name: CommonColumnValues.operation_type,
        direction.name: CommonColumnValues.operation_direction,
        user_version_column.name: user_version,
        change_time.name: (DetailColumnValues.change_time if details
                           else CommonColumnValues.change_time),
    }
    pairs = list(extra_columns)
    if details:
        pairs = detail_columns() + pairs
    for column, value in pairs:
        columns.append(column)
        column_values[column.name] = value
    all_names = [column.name for column in columns]
    twice = sorted({name for name in all_names if all_names.count(name) > 1})
    if twice:
        raise exc.AuditCreateError(
            'column name used twice: %s' % ', '.join(twice))

    table = Table(
        table_name, MetaData() if metadata is None else metadata,
        *columns,
        CheckConstraint(
            func.coalesce(new_version, old_version).isnot(None),
            name='alembic_versions_nonnull'))
    if details:
        for column in (change_time, table.c[values.RUN_ID_COLUMN]):
            Index(index_name(table_name, table.schema, column.name), column)
    return table, column_values
