"""The page of ``report``: one self-contained HTML file.

Everything is inline: the style sheet, the timeline (SVG, see
:mod:`.timeline`) and a small script that filters the runs by text; a
Content-Security-Policy allows that style and script (by their SHA-256)
and nothing else, so that the page makes no request, whatever the
history holds.  Every value read from the database is shown as text:
control characters escaped as ``status`` shows them, then HTML-escaped.
Runs are ``<details>`` elements: the page reads in full with scripts
disabled, and prints (a print style sheet opens them).
"""
import base64
import hashlib
import html

from ...values import CHANGE_TIME_COLUMN
from ...values import CHECKSUM_COLUMN
from ...values import DB_USER_COLUMN
from ...values import DIRECTION_COLUMN
from ...values import DRIFT
from ...values import DURATION_COLUMN
from ...values import ERROR_COLUMN
from ...values import FAILED
from ...values import HOST_COLUMN
from ...values import ID_COLUMN
from ...values import MESSAGE_COLUMN
from ...values import NEW_VERSION_COLUMN
from ...values import OLD_VERSION_COLUMN
from ...values import OPERATION_COLUMN
from ...values import OS_USER_COLUMN
from ...values import STATUS_COLUMN
from ...values import USER_VERSION_COLUMN
from .page_style import SCRIPT
from .page_style import STYLE
from .text import duration
from .text import error_cause
from .text import escaped
from .text import revisions
from .text import stored_revisions
from .text import utc_to_the_second
from .timeline import anchor
from .timeline import timeline_svg

#: Problems and notes listed per check, at most.
LISTED = 8


def _h(value):
    """A stored value as HTML text (see :func:`.text.escaped`)."""
    return html.escape(escaped(value), quote=True)


def _sha256(text):
    return base64.b64encode(hashlib.sha256(text.encode('utf-8'))
                            .digest()).decode('ascii')


def content_policy():
    """The page's Content-Security-Policy: nothing but its own style and
    script."""
    return ("default-src 'none'; style-src 'sha256-%s'; script-src "
            "'sha256-%s'; img-src data:; base-uri 'none'; form-action "
            "'none'" % (_sha256(STYLE), _sha256(SCRIPT)))


def write_page(report, out):
    """Write the page of ``report`` to ``out``.

    ``report`` has ``database`` (its URL, password masked), ``table``,
    ``made_at`` (a UTC datetime), ``current_heads`` and ``script_heads``
    (lists, the latter None without scripts), ``checks`` (those of
    ``verify``, or None) with ``verify_note`` (why not, or an error),
    ``digest`` (a line, or None) with ``digest_note``, ``runs``
    (:class:`~..runs.Run`, oldest first), ``rank`` (heights of
    revisions), ``columns`` (the roles the table has), ``separator``,
    ``rows_shown``, ``more`` (whether the history holds more),
    ``notice`` (a text, or None) and ``title`` (None: ``Audit trail of
    TABLE``).
    """
    title = report.title or 'Audit trail of %s' % report.table
    out.write('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
              '<meta name="viewport" content="width=device-width, '
              'initial-scale=1"><meta http-equiv="Content-Security-Policy" '
              'content="%s"><meta name="referrer" content="no-referrer">'
              '<title>%s</title><style>%s</style></head><body>\n'
              % (content_policy(), _h(title), STYLE))
    out.write('<header><h1>%s</h1>\n' % _h(title))
    _write_summary(report, out)
    out.write('</header>\n<main>\n<section id="timeline"><h2>Timeline</h2>'
              '\n%s\n%s</section>\n'
              % (timeline_svg(report.runs, report.rank, report.separator),
                 LEGEND))
    _write_runs(report, out)
    out.write('</main>\n<script>%s</script>\n</body></html>\n' % SCRIPT)


LEGEND = ''.join([
    '<ul class="legend">',
    '<li><svg viewBox="0 0 12 12"><circle class="ok" cx="6" cy="6" r="5"/>'
    '</svg> ok</li>',
    '<li><svg viewBox="0 0 12 12"><rect class="failed" x="1" y="1" '
    'width="10" height="10"/></svg> failed attempt</li>',
    '<li><svg viewBox="0 0 12 12"><polygon class="drift" '
    'points="6,0 12,6 6,12 0,6"/></svg> drift found</li>',
    '<li><svg viewBox="0 0 12 12"><circle class="other" cx="6" cy="6" '
    'r="4"/></svg> no step (snapshot, accepted)</li>',
    '<li>larger: longer; the stroke runs from the revision the run '
    'started at to the one it left</li></ul>'])


def _write_summary(report, out):
    rows = [('Database', _h(report.database)),
            ('History table', _h(report.table)),
            ('Report made', '%s UTC' % _h(utc_to_the_second(
                report.made_at)))]
    heads = _h(revisions(report.current_heads))
    if report.script_heads is not None:
        same = set(report.current_heads) == set(report.script_heads)
        heads += (' <span class="good">at the head of the scripts</span>'
                  if same else ' <span class="bad">not at the head of the '
                  'scripts (%s)</span>' % _h(revisions(report.script_heads)))
    rows.append(('Current heads', heads))
    rows.append(('Verify', _verdict(report)))
    rows.append(('Digest', '<code>%s</code>' % _h(report.digest)
                 if report.digest else _h(report.digest_note)))
    shown = '%d rows, %d runs' % (report.rows_shown, len(report.runs))
    if report.more:
        shown += ' (the newest; the history holds more)'
    rows.append(('Shown', _h(shown)))
    out.write('<dl class="summary">%s</dl>\n' % ''.join(
        '<dt>%s</dt><dd>%s</dd>' % row for row in rows))
    if report.notice:
        out.write('<p class="notice" role="note">%s</p>\n'
                  % _h(report.notice))


def _verdict(report):
    """The verdict of ``verify``: passed, or which checks failed, each
    check with its problems and notes."""
    if report.checks is None:
        return '<span class="note">not run: %s</span>' % _h(
            report.verify_note)
    failed = [check.name for check in report.checks if not check.passed]
    head = ('<span class="bad">FAILED: %s</span>' % _h(', '.join(failed))
            if failed else '<span class="good">passed</span>')
    items = []
    for check in report.checks:
        state = ('skipped' if check.skipped else
                 'ok' if check.passed else 'FAILED')
        lines = [problem['message'] for problem in check.problems] + \
            ['note: %s' % note for note in check.notes]
        if check.skipped:
            lines.append(check.skip_reason)
        if len(lines) > LISTED:
            lines[LISTED:] = ['... and %d more' % (len(lines) - LISTED)]
        items.append('<li class="%s"><b>%s</b> %s%s</li>' % (
            'bad' if state == 'FAILED' else state, _h(state),
            _h(check.name), '<ul>%s</ul>' % ''.join(
                '<li>%s</li>' % _h(line) for line in lines)
            if lines else ''))
    return '%s<ul class="checks">%s</ul>' % (head, ''.join(items))


#: The columns of the runs table: header, the roles it needs (any).
RUN_COLUMNS = (
    ('When (UTC)', (CHANGE_TIME_COLUMN,)),
    ('Who', (OS_USER_COLUMN, HOST_COLUMN)),
    ('DB user', (DB_USER_COLUMN,)),
    ('App version', (USER_VERSION_COLUMN,)),
    ('From -> to', ()),
    ('Steps', ()),
    ('Duration', (DURATION_COLUMN,)),
    ('Outcome', ()),
)
#: The columns of a run's steps: header, role.
STEP_COLUMNS = (
    ('Id', ID_COLUMN), ('Time (UTC)', CHANGE_TIME_COLUMN),
    ('Direction', DIRECTION_COLUMN), ('Kind', OPERATION_COLUMN),
    ('From -> to', None), ('Message', MESSAGE_COLUMN),
    ('Duration', DURATION_COLUMN), ('Checksum', CHECKSUM_COLUMN),
    ('Status', STATUS_COLUMN), ('Error', ERROR_COLUMN),
)


def _shown(columns, roles):
    return not roles or any(role in columns for role in roles)


def _write_runs(report, out):
    headers = [name for name, roles in RUN_COLUMNS
               if _shown(report.columns, roles)]
    out.write('<section id="runs"><h2>Runs, newest first</h2>\n'
              '<p id="filter" hidden><label>Filter: <input type="search" '
              'id="filter-text" placeholder="revision, user, error..." '
              'autocomplete="off"></label> <output id="filter-count">'
              '</output></p>\n<table class="runs"><thead><tr>%s</tr>'
              '</thead>\n' % ''.join('<th scope="col">%s</th>' % _h(name)
                                     for name in headers))
    for run in reversed(report.runs):
        out.write(_run_rows(run, report, len(headers)))
    out.write('</table>\n</section>\n')


def _run_rows(run, report, width):
    columns, separator = report.columns, report.separator
    start, end = run.moved()
    outcome = run.outcome
    label = {FAILED: 'FAILED', DRIFT: 'DRIFT'}.get(
        outcome, 'ok' if outcome == 'ok' else ', '.join(run.kinds))
    cells = {
        'When (UTC)': utc_to_the_second(run.started),
        'Who': run.who or '',
        'DB user': run.db_user or '',
        'App version': ', '.join(escaped(v) for v in run.versions),
        'From -> to': '%s -> %s' % (stored_revisions(start, separator),
                                    stored_revisions(end, separator)),
        'Steps': str(len(run.steps)),
        'Duration': duration(run.duration_ms),
        'Outcome': label,
    }
    shown = [name for name, roles in RUN_COLUMNS if _shown(columns, roles)]
    return ('<tbody class="run %s" id="run-%s"><tr>%s</tr>\n<tr class="steps">'
            '<td colspan="%d"><details><summary>%s</summary>%s</details>'
            '</td></tr></tbody>\n' % (
                outcome, _h(anchor(run)),
                ''.join('<td class="%s">%s</td>' % (
                    name.split()[0].lower(), _h(cells[name]))
                    for name in shown),
                width, _h(_summary(run)), _steps_table(run, columns,
                                                       separator)))


def _summary(run):
    what = 'run %s' % run.run_id if run.run_id else 'row %s' % \
        run.key.lstrip('#')
    return '%s: %d row%s' % (what, len(run.rows),
                             '' if len(run.rows) == 1 else 's')


def _steps_table(run, columns, separator):
    shown = [(name, role) for name, role in STEP_COLUMNS
             if role is None or role in columns]
    lines = []
    for row in run.rows:
        status = row.get(STATUS_COLUMN)
        cells = []
        for name, role in shown:
            if role is None:
                value = '%s -> %s' % (
                    stored_revisions(row.get(OLD_VERSION_COLUMN), separator),
                    stored_revisions(row.get(NEW_VERSION_COLUMN), separator))
            elif role == CHANGE_TIME_COLUMN:
                value = utc_to_the_second(row.get(role))
            elif role == DURATION_COLUMN:
                value = duration(row.get(role))
            elif role == ERROR_COLUMN:
                value = error_cause(row.get(role))
            else:
                value = row.get(role)
            if role == CHECKSUM_COLUMN and value:
                cells.append('<td class="checksum" title="%s">%s</td>'
                             % (_h(value), _h(str(value)[:12])))
            else:
                cells.append('<td>%s</td>' % _h(value))
        lines.append('<tr class="%s">%s</tr>' % (
            _h(status) if status else 'ok', ''.join(cells)))
    return ('<table class="steps"><thead><tr>%s</tr></thead><tbody>%s'
            '</tbody></table>' % (''.join('<th scope="col">%s</th>' % _h(n)
                                          for n, _ in shown),
                                  ''.join(lines)))
