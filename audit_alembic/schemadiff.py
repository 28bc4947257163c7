"""Comparing two schema snapshots (see :mod:`.snapshot`): :func:`diff`
lists the :class:`Change` objects from one to the other, and
:func:`describe` and :func:`summary` put them into words.

An unnamed constraint (SQLite's) is named after its columns, ``(a, b)``,
or after its SQL text for a check.
"""
import json
from typing import Any
from typing import NamedTuple
from typing import Sequence

from .snapshot import ENTRY_LISTS
from .snapshot import Entry
from .snapshot import entry_name
from .snapshot import normalised

#: The kinds of :class:`Change`, in the order :func:`diff` lists them.
KINDS = ('table', 'column', 'primary key', 'foreign key', 'unique',
         'index', 'check')
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


def _by_name(kind: str, entries: Any) -> dict[str, Entry]:
    if not isinstance(entries, list):  # a primary key, or None
        entries = [entries] if entries else []
    named: dict[str, Entry] = {}
    for entry in entries:  # unnamed twins: '(a)', '(a) #2', ...
        base = entry_name(kind, entry)
        count = sum(n == base or n.startswith(base + ' #') for n in named)
        named['%s #%d' % (base, count + 1) if count else base] = entry
    return named


def _compare(where: str, old: Entry, new: Entry) -> list[Change]:
    changes = []
    for kind in KINDS[1:]:
        key = ENTRY_LISTS.get(kind, 'primary_key')
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
    old, new = normalised(old), normalised(new)
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
            detail = detail[len(entry_name(change.kind, entry)):].lstrip()
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
