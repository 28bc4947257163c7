"""Schema snapshots: reflect a database's schema, store it, compare two.

:func:`take` reflects the tables of one or more schemas through
SQLAlchemy's Inspector into a *snapshot*, a JSON-safe document;
:func:`canonical_json` is its stored text and :func:`snapshot_hash` its
SHA-256; :func:`load` reads the text back; :func:`diff` lists the
:class:`Change` objects from one snapshot to another, and :func:`describe`
and :func:`summary` put them into words.

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
  named after its columns, ``(a, b)``, in :func:`diff`, or after its
  SQL text for a check.
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
from typing import NamedTuple
from typing import Sequence

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.engine import Dialect

#: The version of the document's format, stored in it.
FORMAT = 1
#: The kinds of :class:`Change`, in the order :func:`diff` lists them.
KINDS = ('table', 'column', 'primary key', 'foreign key', 'unique',
         'index', 'check')
Entry = dict[str, Any]
#: Kind of change -> the table's list of entries of that kind.
_LISTS = {'column': 'columns', 'foreign key': 'foreign_keys',
          'unique': 'unique_constraints', 'index': 'indexes',
          'check': 'check_constraints'}
#: The fields :func:`describe` shows, in its order.
_FIELDS = ('type', 'nullable', 'default', 'columns', 'unique',
           'referred_schema', 'referred_table', 'referred_columns',
           'ondelete', 'onupdate', 'sqltext')


class Change(NamedTuple):
    """One difference: ``action`` ``'+'``, ``'-'`` or ``'~'``; ``kind``
    one of :data:`KINDS`; ``table`` ``'schema.table'`` (``'table'`` in
    the default schema); ``name`` (None for a table); ``old``/``new`` the
    entries, None where absent."""
    action: str
    kind: str
    table: str
    name: str | None
    old: Entry | None
    new: Entry | None


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
    return _normalised({'format': FORMAT, 'schemas': documents})


def _built_name(kind: str, entry: Entry) -> str:
    if entry.get('name') is not None:
        return str(entry['name'])
    if kind == 'check':
        return '(%s)' % entry['sqltext']
    return '(%s)' % ', '.join(entry['columns'])


def _compact(document: Any) -> str:
    return json.dumps(document, sort_keys=True, separators=(',', ':'),
                      ensure_ascii=False)


def _sort_key(kind: str) -> Callable[[Entry], tuple[str, str]]:
    return lambda entry: (_built_name(kind, entry), _compact(entry))


def _normalised(snapshot: Entry) -> Entry:
    """``snapshot`` with every table's entry lists in their stable order."""
    schemas = {}
    for schema, content in snapshot['schemas'].items():
        tables = {}
        for name, table in content['tables'].items():
            table = dict(table)
            for kind, key in _LISTS.items():
                if key in table:
                    table[key] = sorted(table[key], key=_sort_key(kind))
            tables[name] = table
        schemas[schema] = dict(content, tables=tables)
    return dict(snapshot, schemas=schemas)


def canonical_json(snapshot: Entry) -> str:
    """The stored text of ``snapshot``: compact JSON, keys and entry lists
    sorted, non-ASCII characters kept."""
    return _compact(_normalised(snapshot))


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


def _by_name(kind: str, entries: Any) -> dict[str, Entry]:
    if not isinstance(entries, list):  # a primary key, or None
        entries = [entries] if entries else []
    named: dict[str, Entry] = {}
    for entry in entries:  # unnamed twins: '(a)', '(a) #2', ...
        base = _built_name(kind, entry)
        count = sum(n == base or n.startswith(base + ' #') for n in named)
        named['%s #%d' % (base, count + 1) if count else base] = entry
    return named


def _compare(where: str, old: Entry, new: Entry) -> list[Change]:
    changes = []
    for kind in KINDS[1:]:
        key = _LISTS.get(kind, 'primary_key')
        if key in old and key in new:
            before, after = _by_name(kind, old[key]), _by_name(kind, new[key])
            changes += [Change(
                '-' if name not in after else '+' if name not in before
                else '~', kind, where, name, before.get(name), after.get(name))
                for name in set(before) | set(after)
                if before.get(name) != after.get(name)]
    return changes


def diff(old: Entry, new: Entry) -> list[Change]:
    """The changes from snapshot ``old`` to ``new``, sorted by table,
    kind (:data:`KINDS`), name and action; ``[]`` when equal."""
    old, new = _normalised(old), _normalised(new)
    changes = []
    for schema in set(old['schemas']) | set(new['schemas']):
        before = old['schemas'].get(schema, {}).get('tables', {})
        after = new['schemas'].get(schema, {}).get('tables', {})
        for name in set(before) | set(after):
            where = '%s.%s' % (schema, name) if schema else name
            if name in before and name in after:
                changes += _compare(where, before[name], after[name])
            else:
                changes.append(Change('-' if name in before else '+', 'table',
                                      where, None, before.get(name),
                                      after.get(name)))
    return sorted(changes, key=lambda c: (
        c.table, KINDS.index(c.kind), c.name or '', '-+~'.index(c.action)))


def _short(change: Change) -> str:
    where = change.table
    if change.name is not None:
        built = change.name.startswith('(')
        where += (' ' if built else '.') + change.name
    return '%s%s %s' % (change.action, change.kind, where)


def _text(value: Any) -> str:
    if isinstance(value, list):
        return '(%s)' % ', '.join(str(v) for v in value)
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    return str(value)


def _detail(kind: str, entry: Entry) -> str:
    if kind == 'table':
        return _text([c['name'] for c in entry['columns']])
    if kind == 'column':
        return str(entry['type']) + (
            '' if entry['nullable'] else ' NOT NULL') + (
            '' if entry['default'] is None else ' DEFAULT %s'
            % entry['default'])
    if kind == 'check':
        return '(%s)' % entry['sqltext']
    text = _text(entry['columns'])
    if kind == 'foreign key':
        text += ' -> %s%s %s' % (
            entry['referred_schema'] + '.' if entry['referred_schema'] else '',
            entry['referred_table'], _text(entry['referred_columns']))
        for action in ('ondelete', 'onupdate'):
            if entry[action]:
                text += ' ON %s %s' % (action[2:].upper(), entry[action])
    if entry.get('unique'):
        text += ' UNIQUE'
    return text


def describe(change: Change) -> str:
    """``change`` in one line, with its details, e.g.
    ``~column invoice.total: nullable true -> false``."""
    if change.action != '~':
        entry = change.new if change.action == '+' else change.old
        if not entry:
            return _short(change)
        detail = _detail(change.kind, entry)
        if change.kind != 'table' and entry.get('name') is None:
            # Named after its columns: the rest only.
            detail = detail[len(_built_name(change.kind, entry)):].lstrip()
        return ('%s %s' % (_short(change), detail)).rstrip()
    old, new = change.old or {}, change.new or {}
    return '%s: %s' % (_short(change), ', '.join(
        '%s %s -> %s' % (field, _text(old.get(field)), _text(new.get(field)))
        for field in _FIELDS if old.get(field) != new.get(field)))


def summary(changes: Sequence[Change], limit: int = 255) -> str:
    """The short forms of ``changes`` joined by ``'; '``, within ``limit``
    characters: cut short with ``'; and N more'`` where they do not fit."""
    parts = [_short(change) for change in changes]
    text = '; '.join(parts)
    for shown in range(len(parts) - 1, -1, -1):
        if len(text) <= limit:
            break
        text = '; '.join(parts[:shown] + ['and %d more' % (
            len(parts) - shown)])
    return text[:limit]
