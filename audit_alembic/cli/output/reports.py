"""The reports of ``status`` and ``verify``: as aligned text, or as one
JSON document (times in ISO-8601 UTC)."""
import json

from .schema import status_json
from .schema import status_line
from .table import write_table
from .text import error_cause
from .text import escaped
from .text import json_value
from .text import revisions
from .text import short_run_id
from .text import utc_to_the_second


#: The free-text columns of the status table, cut to fit a terminal.
STATUS_SHRINK = ('message', 'user version', 'error')


def write_status_table(rows, current, details, out, wide=False,
                       schema=None):
    """The revisions of ``status`` (dicts, oldest first) as an aligned
    table, with those of the ``details`` columns any row has, then the
    database's ``current`` head(s), the pending revisions and, given its
    ``schema`` state (:class:`..schema_state.SchemaState`), whether the
    schema matches the last recorded snapshot.  On a
    terminal, unless ``wide``, messages and user versions are cut to
    fit.  Where a revision's last attempt failed, the table shows when
    and the error's first line."""
    details = [name for name in details
               if any(name in row for row in rows)]
    failures = any(row.get('last_failure') for row in rows)
    headers = ['revision', 'state', 'applied at (UTC)', 'user version'] + \
        [name.replace('_', ' ') for name in details] + \
        (['failed at (UTC)', 'error'] if failures else []) + ['message']
    lines = [[escaped(row['step']), row['state'],
              utc_to_the_second(row['applied_at'])
              if row['applied_at'] is not None else '',
              escaped(row['user_version'])] +
             [short_run_id(row.get(name)) if name == 'run_id'
              else escaped(row.get(name)) for name in details] +
             (_failure_cells(row.get('last_failure')) if failures else []) +
             [escaped(row['message'])] for row in rows]
    write_table(out, headers, [lines], shrink=STATUS_SHRINK, wide=wide)
    pending = [row['revision'] for row in rows if not row['applied']]
    out.write('\ndatabase at: %s\n' % revisions(current))
    out.write('pending: %s\n' % (', '.join(pending) if pending else 'none'))
    if schema is not None:
        out.write('schema: %s\n' % status_line(schema))


def _failure_cells(failure):
    """The ``failed at`` and ``error`` cells of a revision's last failed
    attempt (empty for none)."""
    if not failure:
        return ['', '']
    return [utc_to_the_second(failure['at'])
            if failure['at'] is not None else '',
            escaped(error_cause(failure['error']))]


def _json_row(row):
    """A revision of ``status`` as JSON values (``last_failure`` is an
    object, or null)."""
    return {key: {name: json_value(item) for name, item in value.items()}
            if isinstance(value, dict) else json_value(value)
            for key, value in row.items()}


def write_status_json(rows, current, heads, out, schema=None):
    """The revisions of ``status``, the database's ``current`` head(s)
    and the script directory's ``heads`` as one JSON object; given its
    ``schema`` state, a ``schema`` object too (see
    :func:`.schema.status_json`)."""
    document = {
        'current_heads': current,
        'script_heads': heads,
        'pending': [row['revision'] for row in rows if not row['applied']],
        'revisions': [_json_row(row) for row in rows],
    }
    if schema is not None:
        document['schema'] = status_json(schema)
    _write_json(document, out)


def write_checks(checks, out):
    """The checks of ``verify``: one line each (``ok``, ``FAILED`` or
    ``skipped``), then its problems and notes, indented."""
    for check in checks:
        if check.skipped:
            state = 'skipped'
        else:
            state = 'ok' if check.passed else 'FAILED'
        out.write('%-8s %-9s %s\n' % (state, check.name, check.description))
        for problem in check.problems:
            out.write('         - %s\n' % escaped(problem['message']))
        for note in check.notes:
            out.write('         note: %s\n' % escaped(note))
        if check.skipped:
            out.write('         (%s)\n' % check.skip_reason)


def write_checks_json(checks, out):
    """The checks of ``verify`` as one JSON object: whether all passed,
    and per check its name, description, ``passed``, ``skipped`` (why it
    was skipped, or null), problems and notes."""
    _write_json({'passed': all(check.passed for check in checks),
                 'checks': [{'check': check.name,
                             'description': check.description,
                             'passed': check.passed,
                             'skipped': check.skip_reason
                             if check.skipped else None,
                             'problems': check.problems,
                             'notes': check.notes} for check in checks]},
                out)


def _write_json(document, out):
    out.write(json.dumps(document, indent=1, default=str) + '\n')
