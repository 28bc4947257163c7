"""What the database holds of the history table: the columns and indexes
it lacks of those the Auditor defines, and whether it and its companions
exist.

:func:`read` asks PostgreSQL's catalog in one query (about 2 ms), where
the Inspector takes nine statements (25 to 70 ms) before the first
step; elsewhere the Inspector answers (:func:`missing`, a few
statements).
"""
from typing import TYPE_CHECKING
from typing import Any
from typing import Iterable
from typing import NamedTuple
from typing import Optional
from typing import Sequence

from . import dialects

if TYPE_CHECKING:
    from sqlalchemy import Column
    from sqlalchemy import Index
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection
    from sqlalchemy.sql.elements import TextClause


class Catalog(NamedTuple):
    """What the database holds of a table and its companions: the names
    of the table's columns and indexes, and of those of the tables that
    exist."""
    columns: set[str]
    indexes: set[str]
    tables: set[str]


def catalog(rows: Iterable[Sequence[Any]]) -> Catalog:
    """The :class:`Catalog` the rows of a catalog query give: each a
    kind (``'c'``olumn, ``'i'``ndex, ``'t'``able) and a name."""
    found = Catalog(set(), set(), set())
    kinds = {'c': found.columns, 'i': found.indexes, 't': found.tables}
    for kind, name in rows:
        kinds[kind].add(name)
    return found


#: The tables (and views: what the Inspector's ``has_table`` finds) named
#: :names in schema :schema, else visible in the search path; then the
#: columns and the indexes of the one named :table among them, as
#: ``get_columns`` and ``get_indexes`` name them.
POSTGRESQL_CATALOG = '''\
WITH aa_tables AS (
    SELECT c.oid, c.relname FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relname = ANY(CAST(:names AS TEXT[]))
    AND c.relkind IN ('r', 'p', 'f', 'v', 'm')
    AND CASE WHEN CAST(:schema AS TEXT) IS NULL
        THEN pg_catalog.pg_table_is_visible(c.oid)
             AND n.nspname <> 'pg_catalog'
        ELSE n.nspname = :schema END)
SELECT 't', relname FROM aa_tables
UNION ALL
SELECT 'c', a.attname FROM pg_catalog.pg_attribute a
JOIN aa_tables t ON t.oid = a.attrelid
WHERE t.relname = :table AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'i', ic.relname FROM pg_catalog.pg_index i
JOIN aa_tables t ON t.oid = i.indrelid
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
WHERE t.relname = :table'''


def postgresql_query(table: 'Table', companions: Sequence['Table'] = ()
                     ) -> 'TextClause':
    """The query of PostgreSQL's catalog giving the rows of a
    :class:`Catalog` of ``table`` and ``companions`` (all in the schema
    of ``table``), its parameters bound."""
    from sqlalchemy import text
    return text(POSTGRESQL_CATALOG).bindparams(
        names=[table.name] + [companion.name for companion in companions],
        schema=table.schema, table=table.name)


def read(connection: 'Connection', table: 'Table',
         companions: Sequence['Table'] = (),
         query: Optional['TextClause'] = None) -> Optional[Catalog]:
    """The :class:`Catalog` of ``table`` and ``companions`` in one query
    (``query``, else :func:`postgresql_query`), where the dialect has
    one (PostgreSQL, the companions in the table's schema); None
    elsewhere."""
    if not dialects.server(
            connection.dialect).reads_the_catalog_in_one_query or any(
            companion.schema != table.schema for companion in companions):
        return None
    if query is None:
        query = postgresql_query(table, companions)
    return catalog(connection.execute(query))


def lacking(table: 'Table', found: Catalog
            ) -> tuple[list['Column[Any]'], list['Index']]:
    """The columns and indexes of ``table`` that the table in the
    database, as ``found``, lacks (none if there is no such table)."""
    if table.name not in found.tables:
        return [], []
    return ([c for c in table.columns if c.name not in found.columns],
            [i for i in table.indexes if i.name not in found.indexes])


def exists(connection: 'Connection', table: 'Table') -> bool:
    """Whether ``table`` is in the database (the Inspector's word)."""
    from sqlalchemy import inspect
    return inspect(connection).has_table(table.name, schema=table.schema)


def missing(connection: 'Connection', table: 'Table'
            ) -> tuple[list['Column[Any]'], list['Index']]:
    """The columns and indexes of ``table`` that the table in the
    database lacks (none if there is no such table), as the Inspector
    reflects them."""
    from sqlalchemy import inspect
    inspector = inspect(connection)
    if not inspector.has_table(table.name, schema=table.schema):
        return [], []
    have: set[Optional[str]] = {c['name'] for c in inspector.get_columns(
        table.name, schema=table.schema)}
    columns = [c for c in table.columns if c.name not in have]
    have = {i['name'] for i in inspector.get_indexes(
        table.name, schema=table.schema)}
    indexes = [i for i in table.indexes if i.name not in have]
    return columns, indexes
