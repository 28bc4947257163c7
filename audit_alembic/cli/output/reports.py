"""The reports of ``status`` and ``verify``: as aligned text, or as one
JSON document (times in ISO-8601 UTC)."""
import json

from .table import write_table
from .text import escaped
from .text import json_value
from .text import revisions
from .text import utc_to_the_second


def write_status_table(rows, current, details, out):
    """The revisions of ``status`` (dicts, oldest first) as an aligned
    table, with those of the ``details`` columns any row has, then the
    database's ``current`` head(s) and the pending revisions."""
    details = [name for name in details
               if any(name in row for row in rows)]
    headers = ['revision', 'state', 'applied at (UTC)', 'user version'] + \
        [name.replace('_', ' ') for name in details] + ['message']
    lines = [[escaped(row['step']), row['state'],
              utc_to_the_second(row['applied_at'])
              if row['applied_at'] is not None else '',
              escaped(row['user_version'])] +
             [escaped(row.get(name)) for name in details] +
             [escaped(row['message'])] for row in rows]
    write_table(out, headers, [lines])
    pending = [row['revision'] for row in rows if not row['applied']]
    out.write('\ndatabase at: %s\n' % revisions(current))
    out.write('pending: %s\n' % (', '.join(pending) if pending else 'none'))


def write_status_json(rows, current, heads, out):
    """The revisions of ``status``, the database's ``current`` head(s)
    and the script directory's ``heads`` as one JSON object."""
    document = {
        'current_heads': current,
        'script_heads': heads,
        'pending': [row['revision'] for row in rows if not row['applied']],
        'revisions': [{key: json_value(value)
                       for key, value in row.items()} for row in rows],
    }
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
