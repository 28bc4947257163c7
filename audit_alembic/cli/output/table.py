"""Aligned tables, written as their rows come.

Columns are as wide as their widest cell in the first batch of lines;
later batches only ever widen them, so that a long table needs no more
memory than a short one.
"""


def write_table(out, headers, batches, right=None):
    """Write ``headers``, a line of dashes, then the lines of
    ``batches`` (each an iterable of lists of cell texts) to ``out``.

    :param right: a bool per column: whether it is aligned right (by
        default every column is aligned left).
    """
    right = right or [False] * len(headers)
    widths = [len(header) for header in headers]
    started = False
    for batch in batches:
        lines = list(batch)
        for column, cells in enumerate(zip(*lines)):
            widths[column] = max(widths[column], max(map(len, cells)))
        template = _line_template(widths, right)
        if not started:
            _write_header(out, headers, widths, right)
            started = True
        out.write(''.join([template.format(*line).rstrip() + '\n'
                           for line in lines]))
    if not started:
        _write_header(out, headers, widths, right)


def _line_template(widths, right):
    return '  '.join('{:%s%d}' % ('>' if align_right else '<', width)
                     for width, align_right in zip(widths, right))


def _write_header(out, headers, widths, right):
    template = _line_template(widths, right)
    out.write(template.format(*headers).rstrip() + '\n')
    out.write(template.format(*['-' * w for w in widths]).rstrip() + '\n')
