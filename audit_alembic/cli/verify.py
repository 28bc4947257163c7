"""``audit-alembic verify``: does the history agree with the database and
the scripts?

The history is read once, oldest row first, streaming it, and each row
is given to every check (see :mod:`.checks`):

* replay: applying the recorded steps in order gives the revisions in
  the version table, and each step starts where the previous ones left
  the database;
* scripts: every recorded revision is in the script directory (when one
  is given), and its script has not changed since it last ran (script
  drift: it hashes differently from the ``script_checksum`` last
  recorded for it);
* failures: every ``'failed'`` attempt (a history table with a
  ``status`` column) was made good: what it attempted happened, by a
  later successful step of the same move (an upgrade applying its
  revision, a downgrade unapplying it), or the database's revisions now
  include (upgrade) or exclude (downgrade) it, or already did when it
  was recorded (a process that lost a race);
* chain: each row's ``row_hash`` follows from the previous chained row
  and the row's values (an HMAC with ``AUDIT_ALEMBIC_KEY`` where it is
  set), so that rows edited, deleted, inserted or reordered are found;
* schema: the live schema matches the last recorded snapshot (no
  drift); the ``'drift'`` rows recorded are noted;
* digests (with ``--digest``): each digest taken earlier still holds
  (see :mod:`.checks.digests`).

Exit status 0 when every check holds, 1 when one fails
(:class:`~audit_alembic.exc.CheckFailed`), 2 when the history cannot be
read or on usage errors.
"""
import sys

from ..exc import CheckFailed
from ..exc import CommandError
from ..hashing import KEY_VARIABLE
from ..values import ID_COLUMN
from ..values import NEW_VERSION_COLUMN
from ..values import OLD_VERSION_COLUMN
from ..values import OPERATION_COLUMN
from . import database
from . import options
from . import project
from .checks import CHECKS
from .checks import feed
from .checks.base import Subject
from .checks.digests import Digests
from .helptext import definitions
from .layout import TableLayout
from .output import reports

#: The roles of the columns verify reads (see :class:`.TableLayout`).
REQUIRED = (ID_COLUMN, OLD_VERSION_COLUMN, NEW_VERSION_COLUMN,
            OPERATION_COLUMN)
EPILOG = '''\
checks (the history is read once, and every row given to each):
%s

The chain check computes an HMAC-SHA-256 with the key in %s where it
is set (as it must be when the rows were written with one), else a
plain SHA-256.

The schema check compares the live schema with the last snapshot
recorded by Auditor.create(details=True), and notes the 'drift' rows
recorded; the drift command lists the changes in full.

With --digest, a digest check follows: %s.

examples:
  audit-alembic verify                       # the project of ./alembic.ini
  audit-alembic verify --format json         # for CI
  audit-alembic verify --url postgresql+psycopg://me@db/app
  AUDIT_ALEMBIC_KEY=... audit-alembic verify # rows written with a key
  audit-alembic verify --digest @digests.txt # digests kept elsewhere
'''


def epilog():
    """The epilog of ``verify --help``: each check of :data:`CHECKS`,
    named and described by its class, then examples."""
    return EPILOG % (definitions((check.name, check.description)
                                 for check in CHECKS), KEY_VARIABLE,
                     Digests.description)


def add_parser(commands):
    """Add the ``verify`` command to the ``commands`` subparsers."""
    parser = commands.add_parser(
        'verify', help='check the history against the database and scripts',
        description='Check that the history table agrees with the '
                    "database's version table and with the script "
                    'directory, and that failed attempts were made good.',
        epilog=epilog())
    options.add_project_options(options.add_database_options(parser))
    group = parser.add_argument_group('output')
    group.add_argument('--format', choices=('table', 'json'),
                       default='table',
                       help='one line per check (default), or JSON')
    group = parser.add_argument_group('checks')
    group.add_argument('--strict', action='store_true',
                       help='fail on unchained rows after the last chained '
                            'row (offline scripts run since the last online '
                            'one), which no hash covers yet')
    group.add_argument('--digest', metavar='DIGEST', action='append',
                       default=[], dest='digests',
                       help='a digest taken earlier (audit-alembic digest, '
                            'or "audit digest: ..." in a deploy\'s log) that '
                            'must still hold; @FILE reads one per line '
                            '(repeatable)')
    return parser


def run(args):
    """Run ``audit-alembic verify`` with parsed ``args``."""
    digests = read_digests(args.digests)
    show_verification(project.optional_script_directory(args),
                      options.database_url(args), options.table_layout(args),
                      args.version_table, args.format, sys.stdout,
                      strict=args.strict, digests=digests)


def read_digests(arguments):
    """``(what names it, Digest)`` pairs of the ``--digest`` arguments:
    each a digest, or ``@FILE`` holding one per line (blank lines
    skipped; text before the digest on a line, a log's, ignored).

    :raise CommandError: naming the argument or line that holds no
        digest, or the file that cannot be read.
    """
    from .. import digest
    found = []
    for number, argument in enumerate(arguments, 1):
        if argument.startswith('@'):
            path = argument[1:]
            try:
                with open(path, encoding='utf-8', errors='replace') as f:
                    lines = f.read().splitlines()
            except OSError as error:
                raise CommandError('--digest %s: cannot read %s (%s)' % (
                    argument, path, error.strerror or error)) from None
            sources = [('%s:%d' % (path, line_number), line)
                       for line_number, line in enumerate(lines, 1)
                       if line.strip()]
        else:
            sources = [('--digest %d' % number, argument)]
        for source, text in sources:
            start = text.find(digest.PREFIX + ' ')
            try:
                found.append((source, digest.parse(
                    text[start:] if start >= 0 else text)))
            except ValueError as error:
                raise CommandError('%s: %s' % (
                    source if source.startswith('--digest')
                    else '--digest ' + source, error)) from None
    return found


def show_verification(scripts, url, layout=None, version_table=None,
                      output_format='table', out=None, strict=False,
                      digests=()):
    """Check the history of the database of ``url`` (against ``scripts``
    unless None) and write the report to ``out``.

    :raise CheckFailed: if a check fails.
    :raise CommandError: if the database or the table cannot be read.
    """
    out = out or sys.stdout
    layout = layout or TableLayout()
    if scripts is not None:
        project.read_scripts(scripts)
    with database.connect(url) as connection:
        table = _history_table(connection, layout, url)
        heads = project.current_heads(connection, version_table, url)
        checks = verify(connection, table, heads, scripts, layout, strict,
                        digests)
    if output_format == 'json':
        reports.write_checks_json(checks, out)
    else:
        reports.write_checks(checks, out)
    failed = [check.name for check in checks if not check.passed]
    if failed:
        raise CheckFailed('verification failed: %s' % ', '.join(failed))


def _history_table(connection, layout, url):
    table = project.reflect_table(connection, layout.table_name,
                                  layout.schema, url)
    missing = [layout.name(role) for role in REQUIRED
               if layout.name(role) not in table.c]
    if len(missing) > 1:
        raise CommandError('table %s lacks columns %s; is it an '
                           'Audit-Alembic history table?'
                           % (table.fullname, ', '.join(missing)))
    for role in REQUIRED:
        layout.column(table, role, 'verify')
    return table


def make_checks(subject):
    """The checks of ``subject``, in the order the report lists them
    (the digests check last, where digests are given)."""
    checks = []
    kinds = CHECKS + ((Digests,) if subject.digests else ())
    for kind in kinds:
        checks.append(kind.made_for(subject, checks))
    return checks


def verify(connection, table, version_heads, scripts=None, layout=None,
           strict=False, digests=()):
    """Run every check over the rows of ``table`` (whose columns
    ``layout`` names), read once, oldest first; return the checks (see
    :class:`~.checks.base.Check`)."""
    subject = Subject(table, layout or TableLayout(), version_heads,
                      scripts, strict)
    subject.connection = connection  # for the schema check's snapshot
    subject.digests = list(digests)
    checks = make_checks(subject)
    feed(connection, table, subject, checks)
    return checks
