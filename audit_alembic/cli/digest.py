"""``audit-alembic digest``: print the chain's digest, a line to keep
outside the database (see :mod:`audit_alembic.digest`); ``verify
--digest`` checks the trail against it later.  Reads only."""
import argparse
import json
import sys

from .. import digest
from ..exc import CommandError
from ..hashing import KEY_VARIABLE
from ..hashing import chain_key
from ..values import ROW_HASH_COLUMN
from . import database
from . import options
from . import project

EPILOG = '''\
The digest names the history table, counts its chained rows and gives
the id and row_hash of the last, and when it was taken; with %s set,
an HMAC-SHA-256 under that key follows.  Keep it where whoever can
write the database cannot: a deploy log, a ticket, another system.  Each
online run with details logs one too ("audit digest: ...").

examples:
  audit-alembic digest >> /secure/digests.txt
  audit-alembic verify --digest @/secure/digests.txt
''' % KEY_VARIABLE


def add_parser(commands):
    """Add the ``digest`` command to the ``commands`` subparsers."""
    parser = commands.add_parser(
        'digest', help="print the chain's digest, to keep outside the "
                       'database',
        description='Print a digest of the history: one line witnessing '
                    'its chain as it is now, for verify --digest to check '
                    'the trail against later.',
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    options.add_project_options(options.add_database_options(parser))
    group = parser.add_argument_group('output')
    group.add_argument('--format', choices=('text', 'json'), default='text',
                       help='the line (default), or a JSON object of its '
                            'fields')
    return parser


def run(args):
    """Run ``audit-alembic digest`` with parsed ``args``."""
    show_digest(options.database_url(args), options.table_layout(args),
                args.format, sys.stdout)


def show_digest(url, layout, output_format='text', out=None):
    """Write the digest of the history table ``layout`` names, in the
    database of ``url``, to ``out``.

    :raise CommandError: if the table cannot be read or holds no chained
        row.
    """
    from ..values import ID_COLUMN
    out = out or sys.stdout
    with database.connect(url) as connection:
        table = project.reflect_table(connection, layout.table_name,
                                      layout.schema, url)
        if ROW_HASH_COLUMN not in table.c:
            raise CommandError(
                'table %s has no row_hash column: nothing to witness (the '
                'chain of Auditor.create(details=True) is)' % table.fullname)
        id_column = layout.column(table, ID_COLUMN, 'digest')
        found = digest.take(connection, table, id_column.name, chain_key())
    if found is None:
        raise CommandError('table %s holds no chained row yet: run alembic '
                           'upgrade with Auditor.create(details=True) first'
                           % table.fullname)
    if output_format == 'json':
        json.dump(as_json(found), out, indent=1)
        out.write('\n')
    else:
        out.write(found.line() + '\n')


def as_json(found):
    """The fields of digest ``found``, and its line, as a JSON object."""
    return {'digest': found.line(), 'table': found.table,
            'rows': found.rows, 'last_id': found.last_id,
            'last_hash': found.last_hash,
            'taken_at': found.taken_at.strftime('%Y-%m-%dT%H:%M:%SZ'),
            'hmac': found.hmac}
