"""Creating, completing and altering the history table in the migrated
database.

A :class:`TableMaker` creates its table where it is missing and, if
asked, adds the columns and indexes an existing one lacks, once per
migration context.  Where DDL would commit the step's transaction
(MySQL, MariaDB, Oracle), it works on another connection and retries
(:func:`aside`), since concurrent deploys may race to create the table.
Where a column cannot be added, :class:`.exc.TableSetupError` names the
statements that would add it (:func:`setup_statements`).  Offline
scripts create the table with :func:`create_if_not_exists`.
"""
import functools
import time
import weakref
from typing import TYPE_CHECKING
from typing import Any
from typing import Callable
from typing import Iterable
from typing import Optional
from typing import Sequence
from typing import cast

from . import catalog
from . import dialects
from . import transactions
from . import exc
from . import logs
from .errors import first_line

if TYPE_CHECKING:
    from sqlalchemy import Column
    from sqlalchemy import Index
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection
    from sqlalchemy.engine import Dialect
    from sqlalchemy.engine import Engine
    from sqlalchemy.schema import ExecutableDDLElement
    from sqlalchemy.sql.elements import TextClause

#: Makes the table (and its companions) on a connection, for a migration
#: context: ``make(connection, ctx)``.
Make = Callable[['Connection', Any], None]


#: How many times the history table's creation is tried on a server whose
#: DDL commits by itself, where concurrent deploys race to create it.
TABLE_CREATE_ATTEMPTS = 5


class TableMaker:
    """Makes sure ``table`` exists in the database of each migration
    context, complete (with every column and index of ``table``) if
    ``complete``, and its ``companions`` (tables of its own) with it."""

    def __init__(self, table: 'Table', complete: bool = False,
                 companions: Iterable['Table'] = ()) -> None:
        self.table = table
        self.complete = complete
        self.companions = tuple(companions)
        # Migration contexts whose table was found complete, or made so.
        self._completed: 'weakref.WeakSet[Any]' = weakref.WeakSet()
        self._catalog_query: Optional['TextClause'] = None

    def create(self, ctx: Any) -> None:
        """Create the table where it is missing (completing an existing
        one first, if asked), on ``ctx``'s connection or aside."""
        self._in_place(ctx, self._create)

    def complete_now(self, ctx: Any) -> None:
        """Add the columns and indexes an existing table lacks, before
        any step runs (if asked to complete the table)."""
        if self.complete:
            self._in_place(ctx, self._complete_table)

    def forget(self) -> None:
        """Forget which tables were found complete: a rollback may have
        undone what was added."""
        self._completed.clear()

    def _in_place(self, ctx: Any, make: Make) -> None:
        if dialects.ddl_commits_by_itself(ctx):
            aside(ctx.connection.engine, make, ctx)
        else:
            make(ctx.connection, ctx)

    def _create(self, connection: 'Connection', ctx: Any) -> None:
        if self.complete and ctx not in self._completed:
            self._complete_table(connection, ctx)
        self.table.create(connection, checkfirst=True)
        self._create_companions(connection)

    def _complete_table(self, connection: 'Connection', ctx: Any) -> None:
        """Add to an existing table the columns and indexes it lacks."""
        if self._catalog_query is None and dialects.server(
                connection.dialect).reads_the_catalog_in_one_query:
            self._catalog_query = catalog.postgresql_query(
                self.table, self.companions)
        found = catalog.read(connection, self.table, self.companions,
                             self._catalog_query)
        if found is None:
            columns, indexes = catalog.missing(connection, self.table)
            exists = bool(self.companions) and catalog.exists(connection,
                                                              self.table)
            companions_missing = True
        else:
            columns, indexes = catalog.lacking(self.table, found)
            exists = self.table.name in found.tables
            companions_missing = any(companion.name not in found.tables
                                     for companion in self.companions)
        if columns or indexes:
            complete(connection, self.table, columns, indexes)
        if self.companions and exists and companions_missing:
            # An existing table, which may predate its companions.
            self._create_companions(connection)
        self._completed.add(ctx)

    def _create_companions(self, connection: 'Connection') -> None:
        """Create the companions that are missing; where one cannot be,
        warn (what it keeps is not recorded) and go on."""
        from sqlalchemy.exc import DBAPIError
        from sqlalchemy.schema import CreateTable
        for companion in self.companions:
            try:
                with transactions.savepoint(connection):
                    companion.create(connection, checkfirst=True)
            except DBAPIError as error:
                logs.auditor().warning(
                    'could not create table %s (%s): what it keeps is not '
                    'recorded; have its owner run: %s;', companion.name,
                    first_line(error.orig), str(CreateTable(companion)
                                                .compile(connection))
                    .strip())


def aside(engine: 'Engine', make: Make, ctx: Any) -> None:
    """``make(connection, ctx)`` on another connection of ``engine``,
    committed, tried :data:`TABLE_CREATE_ATTEMPTS` times.

    DDL would commit the step's transaction (MySQL, MariaDB, Oracle): the
    table is made on another connection, so that the step's
    ``alembic_version`` update still commits only with its row.
    Concurrent deploys may race to create it: retry a few times.
    """
    from sqlalchemy.exc import DBAPIError
    for attempt in range(TABLE_CREATE_ATTEMPTS):
        try:
            with engine.connect() as other:
                make(other, ctx)
                other.commit()
            return
        except DBAPIError:
            if attempt == TABLE_CREATE_ATTEMPTS - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def complete(connection: 'Connection', table: 'Table',
             columns: Sequence['Column[Any]'],
             indexes: Sequence['Index']) -> None:
    """Add ``columns`` (as nullable) and ``indexes`` to ``table``.

    Another process may be adding them at the same moment: what fails
    is checked again, and only what is still missing is an error.

    :raise .exc.TableSetupError: if a column cannot be added.
    """
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import Column
    from sqlalchemy.exc import DBAPIError
    operations = Operations(MigrationContext.configure(connection))
    changes = [
        ('column', column.name, functools.partial(
            operations.add_column, table.name,
            Column(column.name, column.type), schema=table.schema))
        for column in columns] + [
        ('index', index.name, functools.partial(
            operations.create_index, index.name, table.name,
            [column.name for column in index.columns],
            schema=table.schema))
        for index in indexes]
    # Where a failed statement spoils the transaction (PostgreSQL), try
    # each change in a savepoint.
    savepoints = (dialects.server(connection.dialect)
                  .failure_spoils_the_transaction and
                  connection.in_transaction())
    lacking = []  # indexes that could not be created
    for kind, name, change in changes:
        try:
            if savepoints:
                with connection.begin_nested():
                    change()
            else:
                change()
        except DBAPIError as error:
            columns_now, indexes_now = catalog.missing(connection, table)
            if kind == 'column' and name in [c.name for c in columns_now]:
                raise exc.TableSetupError(
                    'table %s lacks column(s) %s and they could not be '
                    'added (%s); have its owner run: %s' % (
                        table.name,
                        ', '.join(c.name for c in columns_now),
                        first_line(error.orig), ' '.join(
                            setup_statements(table, columns_now,
                                             indexes_now,
                                             connection.dialect)))) \
                    from None
            if kind == 'index' and name in [i.name for i in indexes_now]:
                lacking.append((name, error))
        else:
            logs.auditor().info('added %s %s to table %s', kind, name,
                                table.name)
    if lacking:
        # Indexes only make reading quicker: never a reason to stop.
        indexes = [i for i in table.indexes if i.name in dict(lacking)]
        logs.auditor().warning(
            'table %s lacks index(es) %s and they could not be created '
            '(%s); the history is recorded without them; have its '
            'owner run: %s', table.name,
            ', '.join(_index_name(i) for i in indexes),
            first_line(lacking[0][1].orig), ' '.join(setup_statements(
                table, [], indexes, connection.dialect)))


def create_if_not_exists(table: 'Table', dialect: 'Dialect'
                         ) -> list['ExecutableDDLElement']:
    """The DDL elements creating ``table`` and its indexes where they do
    not exist yet, as far as ``dialect`` can say so (MySQL cannot for
    indexes: they are left out)."""
    from sqlalchemy.schema import CreateIndex
    from sqlalchemy.schema import CreateTable
    elements: list['ExecutableDDLElement'] = [
        CreateTable(table, if_not_exists=True)]
    if not dialects.lacks_create_index_if_not_exists(dialect):
        elements.extend(
            CreateIndex(index, if_not_exists=True)
            for index in sorted(table.indexes, key=_index_name))
    return elements


def alter_statements(table: 'Table', columns: Iterable['Column[Any]'],
                     dialect: 'Dialect') -> list[str]:
    """``ALTER TABLE ... ADD COLUMN`` statements adding ``columns`` (as
    nullable) to ``table`` on ``dialect``, each ending in ``;``."""
    preparer = dialect.identifier_preparer
    return ['ALTER TABLE %s ADD COLUMN %s %s;' % (
        preparer.format_table(table), preparer.quote(column.name),
        column.type.compile(dialect)) for column in columns]


def setup_statements(table: 'Table', columns: Iterable['Column[Any]'],
                     indexes: Iterable['Index'],
                     dialect: 'Dialect') -> list[str]:
    """The statements that add ``columns`` (see :func:`alter_statements`)
    and ``indexes`` to ``table`` on ``dialect``, each ending in ``;``."""
    from sqlalchemy.schema import CreateIndex
    return alter_statements(table, columns, dialect) + [
        '%s;' % str(CreateIndex(index).compile(dialect=dialect)).strip()
        for index in sorted(indexes, key=_index_name)]


def _index_name(index: 'Index') -> str:
    """The name of ``index``, an index of a history table: all are named
    (``ix_aa_...``, or by the metadata's naming convention)."""
    return cast(str, index.name)
