"""The reports of ``drift``, and ``status``'s schema line: schema changes
as text (one line each, as :func:`audit_alembic.schemadiff.describe` puts
them) or as JSON."""
from .text import escaped
from .text import json_value
from .text import short_run_id
from .text import utc_to_the_second

#: How many characters of the changes ``status``'s line shows.
STATUS_SUMMARY = 200


def change_json(change):
    """A :class:`~audit_alembic.schemadiff.Change` as a JSON object:
    ``action`` (``+``, ``-``, ``~``), ``kind``, ``table``, ``name``,
    ``old`` and ``new`` (the entries, or null) and ``text``."""
    from ...schemadiff import describe
    return {'action': change.action, 'kind': change.kind,
            'table': change.table, 'name': change.name,
            'old': change.old, 'new': change.new,
            'text': describe(change)}


def changes_json(changes):
    """A list of changes as JSON; a text (why there are none) as is."""
    if isinstance(changes, str):
        return None
    return [change_json(change) for change in changes]


def baseline_json(baseline):
    """The last snapshot's row as JSON, or None."""
    if baseline is None:
        return None
    return {'row_id': baseline.row_id, 'run_id': baseline.run_id,
            'changed_at': json_value(baseline.changed_at),
            'schema_hash': baseline.schema_hash, 'stale': baseline.stale}


def run_text(row_id, run_id, changed_at):
    """``run 1b63fcb0 (row 5, 2026-12-07 03:14:05 UTC)``."""
    return 'run %s (row %s, %s UTC)' % (
        short_run_id(run_id) or '?', escaped(row_id),
        utc_to_the_second(changed_at))


def baseline_text(baseline):
    """Which snapshot ``baseline`` is, in words."""
    return 'the snapshot of ' + run_text(
        baseline.row_id, baseline.run_id, baseline.changed_at)


def change_lines(changes, out, indent='  '):
    """Write one line per change (or the text why there are none)."""
    from ...schemadiff import describe
    if isinstance(changes, str):
        out.write('%s(%s)\n' % (indent, escaped(changes)))
        return
    if not changes:
        out.write('%s(no table, column, index or constraint differs)\n'
                  % indent)
    for change in changes:
        out.write('%s%s\n' % (indent, escaped(describe(change))))


def write_live_text(state, out):
    """The live schema against the last snapshot, as text."""
    if state.differs:
        head = ('schema differs from' if state.drift is None
                else 'schema DRIFT since')
        out.write('%s %s:\n' % (head, baseline_text(state.baseline)))
        change_lines(state.changes, out)
    else:
        out.write('schema matches %s\n' % baseline_text(state.baseline))
    if state.baseline.stale:
        from ..schema_state import STALE_NOTE
        out.write('note: %s\n' % STALE_NOTE)


def live_json(state):
    """The live schema against the last snapshot, as a JSON object:
    ``drift`` (true, false, or null where it cannot tell), ``baseline``,
    the live ``schema_hash``, ``changes``, ``notes``."""
    from ..schema_state import STALE_NOTE
    return {'drift': state.drift,
            'baseline': baseline_json(state.baseline),
            'schema_hash': state.schema_hash,
            'changes': changes_json(state.changes),
            'notes': [STALE_NOTE] if state.baseline is not None and
            state.baseline.stale else []}


def recorded_json(rows):
    """The 'drift' rows of ``drift --since`` as a JSON list."""
    return [{'row_id': row['row_id'], 'run_id': row['run_id'],
             'changed_at': json_value(row['changed_at']),
             'schema_hash': row['schema_hash'], 'message': row['message'],
             'before': row['before'] and dict(
                 row['before'], changed_at=json_value(
                     row['before']['changed_at'])),
             'changes': changes_json(row['changes']),
             'problem': row['changes']
             if isinstance(row['changes'], str) else None}
            for row in rows]


def write_recorded_text(rows, since, out):
    """The 'drift' rows of ``drift --since``, each with its changes."""
    out.write('%d drift row%s recorded since %s%s\n' % (
        len(rows), '' if len(rows) == 1 else 's', since,
        ':' if rows else ''))
    for row in rows:
        out.write('\n%s: drift recorded by %s\n' % (
            'row %s' % escaped(row['row_id']),
            run_text(row['row_id'], row['run_id'], row['changed_at'])))
        before = row['before']
        if before is not None:
            out.write('  since the snapshot of %s\n' % run_text(
                before['row_id'], before['run_id'], before['changed_at']))
        change_lines(row['changes'], out, indent='    ')


def status_line(state):
    """``status``'s line on the schema (without its ``schema: ``)."""
    from ...schemadiff import summary
    if not state.compared:
        if state.baseline is None and state.reason.startswith(
                'no schema snapshot'):
            return 'no snapshot yet'
        return 'not compared: %s' % state.reason
    run = 'run %s (%s)' % (short_run_id(state.baseline.run_id) or '?',
                           utc_to_the_second(state.baseline.changed_at)[:16])
    if not state.differs:
        return 'matches the snapshot of %s' % run
    what = escaped(summary(state.changes, limit=STATUS_SUMMARY)) or \
        'its hash differs'
    if state.drift is None:
        return 'differs from the snapshot of %s, with steps recorded ' \
               'since without one: %s' % (run, what)
    return 'DRIFT since the snapshot of %s: %s' % (run, what)


def status_json(state):
    """``status``'s ``schema`` object: ``state`` (``matches``,
    ``drift``, ``unknown`` or ``no snapshot``), ``text`` (the line), and
    as ``drift`` gives them, ``baseline``, ``schema_hash`` and
    ``changes``."""
    if state.compared:
        kind = {True: 'drift', False: 'matches', None: 'unknown'}[
            state.drift]
    else:
        kind = 'no snapshot' if state.baseline is None else 'unknown'
    return dict(live_json(state), state=kind, text=status_line(state),
                reason=state.reason)
