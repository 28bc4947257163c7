"""The timeline of ``report``: every run as a mark on a time axis, as
inline SVG (no script, no external resource).

One mark per run: a stroke from the revision the run started at to the
one it left the database at (heights: the order the history names
revisions in), and a shape there, coloured and shaped by outcome
(circle ok, square failed, diamond drift, ring other), larger for a
longer run.  Hovering or focusing a mark shows its ``<title>``: when,
who, from where, the run id and each step.  Beyond :data:`MAX_MARKS`
runs, one bar per day (or per several days) instead, as high as the
number of runs, coloured by the worst outcome among them.
"""
import datetime
import html
import math

from ...values import DIRECTION_COLUMN
from ...values import DRIFT
from ...values import DURATION_COLUMN
from ...values import FAILED
from ...values import NEW_VERSION_COLUMN
from ...values import OK
from ...values import OLD_VERSION_COLUMN
from ...values import STATUS_COLUMN
from ..runs import OUTCOMES
from ..runs import is_time
from .text import duration
from .text import escaped
from .text import one_line
from .text import stored_revisions
from .text import utc_to_the_second

#: Beyond this many runs, the timeline shows one bar per day instead.
MAX_MARKS = 400
#: Steps a mark's title lists, at most.
TITLE_STEPS = 12
WIDTH, HEIGHT = 960, 210
LEFT, RIGHT, TOP, BOTTOM = 110, 20, 16, 34
DAY = datetime.timedelta(days=1)


def _text(value):
    """``value`` as SVG text: escaped (no control characters) and HTML-
    escaped."""
    return html.escape(escaped(value), quote=True)


class _Axis:
    """Times to x positions."""

    def __init__(self, start, end):
        if end <= start:
            start, end = start - datetime.timedelta(seconds=1), \
                end + datetime.timedelta(seconds=1)
        self.start, self.end = start, end
        self.span = (end - start).total_seconds()

    def x(self, when):
        part = (when - self.start).total_seconds() / self.span
        return LEFT + part * (WIDTH - LEFT - RIGHT)

    def ticks(self, count=6):
        """``(x, label, anchor)`` triples along the axis."""
        fmt = ('%Y-%m-%d' if self.span > 2 * 86400 else
               '%m-%d %H:%M' if self.span > 600 else '%H:%M:%S')
        step = self.span / (count - 1)
        ticks = []
        for i in range(count):
            when = self.start + datetime.timedelta(seconds=step * i)
            label = when.strftime(fmt)
            if self.span < 30:  # seconds apart: tenths, or thousandths
                label += ('.%03d' % (when.microsecond // 1000)
                          if self.span < 3 else
                          '.%d' % (when.microsecond // 100000))
            ticks.append((self.x(when), label, 'end' if i == count - 1
                          else 'middle'))
        return ticks


def timeline_svg(runs, rank, separator):
    """The timeline of ``runs`` (:class:`~..runs.Run`, oldest first) as
    an ``<svg>`` element; ``rank`` gives a stored revision value its
    height (see :func:`~..runs.revision_ranks`), ``separator`` joins
    several revisions.  Runs whose time is no time are left out."""
    timed = [run for run in runs if is_time(run.started)]
    if not timed:
        return '<p class="empty">No run to show on a time axis.</p>'
    axis = _Axis(min(run.started for run in timed),
                 max(run.ended if is_time(run.ended) else run.started
                     for run in timed))
    parts = [_frame(axis)]
    if len(timed) <= MAX_MARKS:
        parts.append(_revision_labels(timed, rank, separator))
        parts.extend(_mark(run, axis, rank, separator) for run in timed)
        kind = 'one mark per run'
    else:
        days, bars = _day_bars(timed, axis)
        parts.extend(bars)
        kind = 'one bar per %s' % ('day' if days == 1 else '%d days' % days)
    return ('<svg class="timeline" role="group" viewBox="0 0 %d %d" '
            'aria-label="%d runs on a time axis, %s" data-marks="%s">%s'
            '</svg>' % (WIDTH, HEIGHT, len(timed), kind, kind,
                        ''.join(parts)))


def _frame(axis):
    bottom = HEIGHT - BOTTOM
    parts = ['<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/>'
             % (LEFT, bottom, WIDTH - RIGHT, bottom)]
    for x, label, anchor in axis.ticks():
        parts.append('<line class="tick" x1="%.1f" y1="%d" x2="%.1f" '
                     'y2="%d"/><text class="tick %s" x="%.1f" y="%d">%s'
                     '</text>' % (x, bottom, x, bottom + 4, anchor, x,
                                  bottom + 18, _text(label)))
    return ''.join(parts)


def _y(rank_value, top_rank):
    usable = HEIGHT - TOP - BOTTOM - 16
    return HEIGHT - BOTTOM - 8 - usable * rank_value / max(top_rank, 1)


def _revision_labels(runs, rank, separator):
    """Labels of the heights: every revision the runs reach, or the
    lowest and highest where there are many."""
    values = {}
    for run in runs:
        for value in run.moved():
            values.setdefault(rank(value), value)
    top = rank.top
    shown = sorted(values)
    if len(shown) > 12:
        shown = [shown[0], shown[-1]]
    return ''.join(
        '<text class="rev" x="%d" y="%.1f">%s</text>'
        % (LEFT - 6, _y(height, top) + 4,
           _text(stored_revisions(values[height], separator)[:14]))
        for height in shown)


def _size(run):
    """A radius from 3.5 to 9 by the run's duration (log scale)."""
    ms = run.duration_ms
    if ms is None:
        return 4.5
    return 3.5 + min(5.5, math.log10(1 + ms / 10.0) * 1.4)


def _mark(run, axis, rank, separator):
    start, end = run.moved()
    top = rank.top
    x = axis.x(run.started)
    y1, y2 = _y(rank(start), top), _y(rank(end), top)
    r = _size(run)
    outcome = run.outcome
    shape = {
        OK: '<circle cx="%.1f" cy="%.1f" r="%.1f"/>' % (x, y2, r),
        FAILED: '<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>'
                % (x - r, y2 - r, 2 * r, 2 * r),
        DRIFT: '<polygon points="%.1f,%.1f %.1f,%.1f %.1f,%.1f '
               '%.1f,%.1f"/>' % (x, y2 - r * 1.3, x + r * 1.3, y2, x,
                                 y2 + r * 1.3, x - r * 1.3, y2),
    }.get(outcome, '<circle class="ring" cx="%.1f" cy="%.1f" r="%.1f"/>'
          % (x, y2, r))
    return ('<a class="mark %s" href="#run-%s" tabindex="0"><title>%s'
            '</title><line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" '
            'stroke-width="%.1f"/>%s</a>'
            % (outcome, _text(anchor(run)), mark_title(run, separator),
               x, y1, x, y2, max(1.5, r / 2.5), shape))


def anchor(run):
    """The id (less its ``run-`` prefix) of ``run``'s rows in the
    page."""
    return ''.join(c if c.isalnum() or c == '-' else '_' for c in
                   str(run.key).lstrip('#'))


def mark_title(run, separator):
    """The text a run's mark shows when hovered or focused: when, how it
    ended, who, from where, the run id, and each step (HTML-escaped)."""
    start, end = run.moved()
    lines = ['%s UTC: %s' % (utc_to_the_second(run.started),
                             run.outcome if run.outcome != 'other'
                             else ', '.join(run.kinds)),
             '%s -> %s' % (stored_revisions(start, separator),
                           stored_revisions(end, separator))]
    if run.who or run.db_user:
        lines.append('by %s%s' % (
            run.who or '?',
            ' (database user %s)' % escaped(run.db_user)
            if run.db_user else ''))
    lines.append('run %s' % escaped(run.run_id) if run.run_id else
                 'row %s (no run id)' % escaped(run.key.lstrip('#')))
    if run.duration_ms is not None:
        lines.append('took %s' % duration(run.duration_ms))
    for row in run.rows[:TITLE_STEPS]:
        lines.append('  %s %s -> %s %s%s' % (
            escaped(row.get(DIRECTION_COLUMN)),
            stored_revisions(row.get(OLD_VERSION_COLUMN), separator),
            stored_revisions(row.get(NEW_VERSION_COLUMN), separator),
            escaped(row.get(STATUS_COLUMN) or ''),
            ' ' + duration(row.get(DURATION_COLUMN))
            if row.get(DURATION_COLUMN) is not None else ''))
    if len(run.rows) > TITLE_STEPS:
        lines.append('  ... and %d more' % (len(run.rows) - TITLE_STEPS))
    return html.escape('\n'.join(one_line(escaped(line), 200)
                                 for line in lines))


def _day_bars(runs, axis):
    """One bar per bucket of days: ``(days per bucket, bars)``."""
    first = runs[0].started.replace(hour=0, minute=0, second=0,
                                    microsecond=0)
    span_days = (axis.end - first).days + 1
    days = max(1, math.ceil(span_days / MAX_MARKS))
    buckets = {}
    for run in runs:
        index = (run.started - first).days // days
        buckets.setdefault(index, []).append(run)
    most = max(len(bucket) for bucket in buckets.values())
    bottom = HEIGHT - BOTTOM
    usable = HEIGHT - TOP - BOTTOM - 8
    width = max(2.0, (WIDTH - LEFT - RIGHT) * days * 86400 / axis.span - 1)
    bars = ['<text class="rev" x="%d" y="%d">%d runs</text>'
            % (LEFT - 6, TOP + 8, most)]
    for index, bucket in sorted(buckets.items()):
        day = first + DAY * (index * days)
        counts = {outcome: 0 for outcome in OUTCOMES}
        for run in bucket:
            counts[run.outcome] += 1
        worst = next(outcome for outcome in OUTCOMES if counts[outcome])
        height = max(2.0, usable * math.log1p(len(bucket)) / math.log1p(most))
        x = max(LEFT, axis.x(day))
        label = '%s%s: %d runs, %d steps (%s)' % (
            day.strftime('%Y-%m-%d'),
            '' if days == 1 else ' +%d days' % (days - 1), len(bucket),
            sum(len(run.steps) for run in bucket),
            ', '.join('%d %s' % (counts[o], o) for o in OUTCOMES
                      if counts[o]))
        bars.append('<g class="mark day %s" tabindex="0"><title>%s</title>'
                    '<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>'
                    '</g>' % (worst, html.escape(label), x, bottom - height,
                              min(width, WIDTH - RIGHT - x), height))
    return days, bars
