"""Aligned tables, written as their rows come, fit to the terminal.

Columns are as wide as their widest cell in the first batch of lines;
later batches only ever widen them, so that a long table needs no more
memory than a short one.  On a terminal, the columns named shrinkable
(free text: a message, an error) are cut, widest first, so that a line
fits its width; ``--wide``, or output that is not a terminal (a pipe, a
file), gets them whole.
"""
import shutil

#: What ends a cut cell (``...`` where the output cannot show it).
ELLIPSIS = '\u2026'
#: A shrinkable column is never cut narrower than this (nor its header).
MIN_WIDTH = 10
GAP = 2


def terminal_width(out, wide=False):
    """The width to fit a table written to ``out`` into: that of the
    terminal when ``out`` is one, else None (whole cells), as with
    ``wide``."""
    if wide:
        return None
    try:
        tty = out.isatty()
    except (AttributeError, ValueError):
        tty = False
    return shutil.get_terminal_size().columns if tty else None


def write_table(out, headers, batches, right=None, shrink=(), wide=False):
    """Write ``headers``, a line of dashes, then the lines of
    ``batches`` (each an iterable of lists of cell texts) to ``out``.

    :param right: a bool per column: whether it is aligned right (by
        default every column is aligned left).
    :param shrink: the headers of the columns that may be cut with
        :data:`ELLIPSIS` to fit a terminal (see :func:`terminal_width`).
    :param wide: never cut a cell.
    """
    right = right or [False] * len(headers)
    width = terminal_width(out, wide) if shrink else None
    cut = [header in shrink for header in headers]
    ellipsis = _ellipsis(out)
    natural = [len(header) for header in headers]
    widths = None
    for batch in batches:
        lines = list(batch)
        for column, cells in enumerate(zip(*lines)):
            natural[column] = max(natural[column], max(map(len, cells)))
        first = widths is None
        widths = fit(natural, cut, width, [len(h) for h in headers],
                     widths)
        if first:
            _write_header(out, headers, widths, right)
        template = _line_template(widths, right)
        out.write(''.join([
            template.format(*_cut_line(line, widths, cut, ellipsis)
                            ).rstrip() + '\n' for line in lines]))
    if widths is None:
        _write_header(out, headers, natural, right)


def fit(natural, cut, width, least=None, before=None):
    """Column widths: ``natural`` ones, except that where ``cut`` (a bool
    per column) those columns share what ``width`` leaves, the narrowest
    keeping their width, the others an equal part (at least
    :data:`MIN_WIDTH`, or their entry of ``least`` if wider).  With
    ``before``, the widths of the previous batch: a column never gets
    narrower than it was, unless it is one that is cut."""
    widths = list(natural)
    if before is not None:
        widths = [w if c else max(w, b)
                  for w, b, c in zip(widths, before, cut)]
    if width is None or not any(cut):
        return widths
    least = least or [0] * len(widths)
    fixed = sum(w for w, c in zip(widths, cut) if not c)
    left = width - fixed - GAP * (len(widths) - 1)
    todo = sorted((i for i, c in enumerate(cut) if c),
                  key=lambda i: widths[i])
    while todo:
        share = left // len(todo)
        i = todo.pop(0)
        if widths[i] > share:
            widths[i] = max(share, MIN_WIDTH, least[i])
        left -= widths[i]
    return widths


def _cut_line(line, widths, cut, ellipsis):
    if not any(cut):
        return line
    return [cell[:width - len(ellipsis)] + ellipsis
            if shrinks and len(cell) > width else cell
            for cell, width, shrinks in zip(line, widths, cut)]


def _ellipsis(out):
    encoding = getattr(out, 'encoding', None) or 'ascii'
    try:
        ELLIPSIS.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return '...'
    return ELLIPSIS


def _line_template(widths, right):
    return '  '.join('{:%s%d}' % ('>' if align_right else '<', width)
                     for width, align_right in zip(widths, right))


def _write_header(out, headers, widths, right):
    template = _line_template(widths, right)
    out.write(template.format(*headers).rstrip() + '\n')
    out.write(template.format(*['-' * w for w in widths]).rstrip() + '\n')
