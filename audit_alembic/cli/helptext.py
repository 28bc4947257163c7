"""How ``--help`` is laid out: prose wrapped to the terminal, examples
kept as written, and the exit statuses every command shares.

Descriptions and epilogs are written as paragraphs separated by blank
lines.  A paragraph that starts with ``examples:`` is kept line for line
(commands must stay copyable); in any other, indented lines of the form
``  name  text`` are a list of definitions, wrapped with a hanging
indent, and the other lines are prose, filled to the width argparse
gives (the terminal's, from ``shutil.get_terminal_size``, which reads
``COLUMNS``).
"""
import argparse
import re
import textwrap

#: The exit statuses of every command, as ``--help`` ends with them.
EXIT_STATUSES = (
    'exit status: 0 all good; 1 the check found something (a database '
    'behind its head with status --expect-head, a failed check of '
    'verify, schema drift); 2 it could not check (an unreachable '
    'database, a bad config, a missing table, no schema snapshot yet, a '
    'usage error); 130 interrupted.')
#: The header of a paragraph kept as written.
VERBATIM = 'examples:'
#: An item of a definition list: indent, name, two or more spaces, text.
_DEFINITION = re.compile(r'^(\s+)(\S+)(\s{2,})(\S.*)$')


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter, with descriptions and epilogs wrapped as
    this module says (argparse's own wraps them into one paragraph; its
    raw one, not at all)."""

    def _fill_text(self, text, width, indent):
        return '\n\n'.join(fill_paragraph(paragraph, width, indent)
                           for paragraph in paragraphs(text)) + '\n'


def paragraphs(text):
    """The paragraphs of ``text`` (separated by blank lines), as lists
    of lines."""
    found, current = [], []
    for line in text.splitlines():
        if line.strip():
            current.append(line.rstrip())
        elif current:
            found.append(current)
            current = []
    if current:
        found.append(current)
    return found


def fill_paragraph(lines, width, indent=''):
    """One paragraph (a list of lines) laid out in ``width`` columns."""
    if lines[0].strip() == VERBATIM:
        return '\n'.join(indent + line for line in lines)
    width = max(width, 20)
    out, prose = [], []

    def flush():
        if prose:
            out.extend(textwrap.wrap(' '.join(prose), width,
                                     initial_indent=indent,
                                     subsequent_indent=indent))
            del prose[:]
    for line in lines:
        definition = _DEFINITION.match(line)
        if definition is None:
            prose.append(line.strip())
            continue
        flush()
        margin, name, gap, text = definition.groups()
        head = indent + margin + name + gap
        out.extend(textwrap.wrap(text, width, initial_indent=head,
                                 subsequent_indent=' ' * len(head)) or
                   [head.rstrip()])
    flush()
    return '\n'.join(out)


def definitions(items, gap=2):
    """``(name, text)`` pairs as the lines of a definition list."""
    items = list(items)
    column = max((len(name) for name, _ in items), default=0) + gap
    return '\n'.join('  %s%s' % (name.ljust(column), text)
                     for name, text in items)


def with_exit_statuses(epilog):
    """``epilog`` (or nothing) followed by :data:`EXIT_STATUSES`."""
    if not epilog:
        return EXIT_STATUSES
    return epilog.rstrip('\n') + '\n\n' + EXIT_STATUSES
