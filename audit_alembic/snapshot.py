"""Schema snapshots: reflect a database's schema, store it, hash it.

:func:`take` reflects the tables of one or more schemas through
SQLAlchemy's Inspector into a *snapshot*, a JSON-safe document;
:func:`canonical_json` is its stored text and :func:`snapshot_hash` its
SHA-256; :func:`load` reads the text back.  Comparing two:
:mod:`.schemadiff`.

The document (format 1)::

    {"format": 1,
     "schemas": {"": {"tables": {"invoice": TABLE, ...}},
                 "other_schema": {"tables": {...}}}}

``""`` is the connection's default schema; other schemas are keyed by the
name given to :func:`take`.  Each TABLE::

    {"columns": [{"name": "id", "type": "INTEGER", "nullable": false,
                  "default": null}, ...],
     "primary_key": {"name": "invoice_pkey", "columns": ["id"]} or null,
     "foreign_keys": [{"name": ..., "columns": [...],
                       "referred_schema": null, "referred_table": "customer",
                       "referred_columns": ["id"], "ondelete": "CASCADE",
                       "onupdate": null}, ...],
     "unique_constraints": [{"name": ..., "columns": [...]}, ...],
     "indexes": [{"name": ..., "columns": [...], "unique": false}, ...],
     "check_constraints": [{"name": ..., "sqltext": "total >= 0"}, ...]}

* ``type`` is the reflected type compiled by the connection's dialect
  (``VARCHAR(20)``), or the type's class name if it does not compile;
  ``default`` is the reflected server default's text, or null.
* Columns are sorted by name: their order is not compared.  The other
  lists are sorted by name, then by content; the column lists inside an
  entry keep the database's order.  An unnamed constraint (SQLite's) is
  named after its columns, ``(a, b)``, in
  :func:`.schemadiff.diff`, or after its SQL text for a check.
* ``referred_schema`` is null for the connection's default schema.
  ``ondelete``/``onupdate`` are null where the database reports none.
* An index's ``columns`` hold expressions as text where reflected.
  Indexes that only back a unique constraint are left out (PostgreSQL);
  MySQL and MariaDB report unique constraints as unique indexes.
* A kind the dialect cannot reflect (NotImplementedError) has no key,
  and is not compared.  Comments, column sort order, identity/computed
  settings and dialect-specific options are not recorded.
"""
import hashlib
import json
from typing import TYPE_CHECKING
from typing import Any
from typing import Callable
from typing import Iterable
from typing import Sequence

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.engine import Dialect

#: The version of the document's format, stored in it.
FORMAT = 1
#: A snapshot, one of its tables, or an entry of a table's lists.
Entry = dict[str, Any]
#: Kind of entry -> the table's list of entries of that kind.
ENTRY_LISTS = {'column': 'columns', 'foreign key': 'foreign_keys',
               'unique': 'unique_constraints', 'index': 'indexes',
               'check': 'check_constraints'}


def _type_text(type_: Any, dialect: 'Dialect') -> str:
    try:
        return str(type_.compile(dialect=dialect))
    except Exception:
        return type(type_).__name__


def _table(key: tuple[str | None, str], reflected: dict[str, Any],
           dialect: 'Dialect', default: str | None) -> Entry:
    def of(kind: str) -> Any:
        return reflected[kind].get(key) or []

    table: Entry = {'columns': [
        {'name': c['name'], 'type': _type_text(c['type'], dialect),
         'nullable': bool(c['nullable']),
         'default': None if c.get('default') is None else str(c['default'])}
        for c in of('columns')]}
    if 'pk' in reflected:
        pk = of('pk')
        table['primary_key'] = {
            'name': pk.get('name'), 'columns': list(pk['constrained_columns'])
        } if pk and pk.get('constrained_columns') else None
    if 'fk' in reflected:
        table['foreign_keys'] = [{
            'name': fk.get('name'), 'columns': list(fk['constrained_columns']),
            'referred_schema': None if fk.get('referred_schema') == default
            else fk.get('referred_schema'),
            'referred_table': fk['referred_table'],
            'referred_columns': list(fk['referred_columns']),
            'ondelete': (fk.get('options') or {}).get('ondelete'),
            'onupdate': (fk.get('options') or {}).get('onupdate'),
        } for fk in of('fk')]
    if 'unique' in reflected:
        table['unique_constraints'] = [
            {'name': u.get('name'), 'columns': list(u['column_names'])}
            for u in of('unique') if not u.get('duplicates_index')]
    if 'index' in reflected:
        table['indexes'] = [{
            'name': i.get('name'), 'unique': bool(i['unique']),
            'columns': [c if c is not None else '?' for c in
                        (i.get('expressions') or i['column_names'])],
        } for i in of('index') if not i.get('duplicates_constraint')]
    if 'check' in reflected:
        table['check_constraints'] = [
            {'name': c.get('name'), 'sqltext': str(c['sqltext'])}
            for c in of('check')]
    return table


def take(connection: 'Connection', schemas: Iterable[str | None] = (None,),
         exclude: Iterable[tuple[str | None, str]] = ()) -> Entry:
    """Reflect the tables of ``schemas`` (None: the connection's default
    schema) on ``connection``, within its transaction, leaving out the
    ``exclude`` tables, ``(schema, name)`` pairs; return the snapshot."""
    from sqlalchemy import inspect
    from sqlalchemy.engine import ObjectKind
    inspector = inspect(connection)
    default = inspector.default_schema_name
    skip = set(exclude)
    methods: Sequence[tuple[str, Callable[..., Any]]] = (
        ('columns', inspector.get_multi_columns),
        ('pk', inspector.get_multi_pk_constraint),
        ('fk', inspector.get_multi_foreign_keys),
        ('unique', inspector.get_multi_unique_constraints),
        ('index', inspector.get_multi_indexes),
        ('check', inspector.get_multi_check_constraints))
    documents: dict[str, Any] = {}
    for schema in schemas:
        names: list[str] | None = None
        if any(s == schema for s, _ in skip):
            names = [n for n in inspector.get_table_names(schema)
                     if (schema, n) not in skip]
        reflected: dict[str, Any] = {}
        for kind, method in methods:
            if names == []:
                reflected[kind] = {}
                continue
            try:
                reflected[kind] = method(schema=schema, filter_names=names,
                                         kind=ObjectKind.TABLE)
            except NotImplementedError:
                if kind == 'columns':
                    raise
        documents['' if schema is None else schema] = {'tables': {
            key[1]: _table(key, reflected, connection.dialect, default)
            for key in reflected['columns']}}
    return normalised({'format': FORMAT, 'schemas': documents})


def entry_name(kind: str, entry: Entry) -> str:
    """The name of ``entry``, of ``kind``: its own, else built from its
    columns, ``(a, b)``, or for a check from its SQL text."""
    if entry.get('name') is not None:
        return str(entry['name'])
    if kind == 'check':
        return '(%s)' % entry['sqltext']
    return '(%s)' % ', '.join(entry['columns'])


def _compact(document: Any) -> str:
    return json.dumps(document, sort_keys=True, separators=(',', ':'),
                      ensure_ascii=False)


def _sort_key(kind: str) -> Callable[[Entry], tuple[str, str]]:
    return lambda entry: (entry_name(kind, entry), _compact(entry))


def normalised(snapshot: Entry) -> Entry:
    """``snapshot`` with every table's entry lists in their stable order."""
    schemas = {}
    for schema, content in snapshot['schemas'].items():
        tables = {}
        for name, table in content['tables'].items():
            table = dict(table)
            for kind, key in ENTRY_LISTS.items():
                if key in table:
                    table[key] = sorted(table[key], key=_sort_key(kind))
            tables[name] = table
        schemas[schema] = dict(content, tables=tables)
    return dict(snapshot, schemas=schemas)


def canonical_json(snapshot: Entry) -> str:
    """The stored text of ``snapshot``: compact JSON, keys and entry lists
    sorted, non-ASCII characters kept."""
    return _compact(normalised(snapshot))


def snapshot_hash(snapshot: Entry) -> str:
    """The SHA-256 (hex) of the UTF-8 :func:`canonical_json` of
    ``snapshot``."""
    return hashlib.sha256(canonical_json(snapshot).encode('utf-8')).hexdigest()


def load(text: str) -> Entry:
    """The snapshot stored as ``text``.

    :raise ValueError: if it is not a snapshot of format :data:`FORMAT`.
    """
    try:
        document: Entry = json.loads(text)
    except ValueError as e:
        raise ValueError('not a schema snapshot: %s' % e) from None
    found = document.get('format') if isinstance(document, dict) else None
    if type(found) is not int or found != FORMAT:
        raise ValueError('not a schema snapshot of format %d (format: %r)'
                         % (FORMAT, found))
    schemas = document.get('schemas')
    if not isinstance(schemas, dict) or not all(
            isinstance(s, dict) and isinstance(s.get('tables'), dict)
            for s in schemas.values()):
        raise ValueError('not a schema snapshot: bad "schemas"')
    return document
