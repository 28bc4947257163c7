"""What ``report`` says of a history beside its rows, made in this
process: the verdict of ``verify``'s checks (:mod:`.checks`, each fed
every row once, oldest first, as ``verify`` feeds them), the chain's
digest (:mod:`audit_alembic.digest`) and the heads of the scripts."""
from ..exc import CommandError
from ..values import ID_COLUMN
from ..values import NEW_VERSION_COLUMN
from ..values import OLD_VERSION_COLUMN
from ..values import OPERATION_COLUMN
from ..values import ROW_HASH_COLUMN
from .checks import CHECKS
from .checks import feed
from .checks.base import Subject

#: The roles verify needs.
VERIFY_NEEDS = (ID_COLUMN, OLD_VERSION_COLUMN, NEW_VERSION_COLUMN,
                OPERATION_COLUMN)


def run_checks(connection, table, layout, heads, scripts, url):
    """``(checks, None)``: verify's checks of ``table`` (whose columns
    ``layout`` names; ``heads`` those of the version table, ``scripts``
    the script directory or None), each fed every row, oldest first, as
    ``verify`` does; or ``(None, why not)``, secrets of ``url`` hidden.
    """
    from ..masking import hide_secrets
    missing = [layout.name(role) for role in VERIFY_NEEDS
               if layout.name(role) not in table.c]
    if missing:
        return None, 'the table lacks %s' % ', '.join(missing)
    subject = Subject(table, layout, heads, scripts, False)
    subject.connection = connection
    checks = []
    try:
        for kind in CHECKS:
            checks.append(kind.made_for(subject, checks))
        feed(connection, table, subject, checks)
    except CommandError as error:
        return None, 'could not run: %s' % hide_secrets(str(error), url)
    return checks, None


def take_digest(connection, table, id_name):
    """``(line, None)``: the digest of ``table``'s chain (its id column
    named ``id_name``); or ``(None, why not)``."""
    from .. import digest
    from ..hashing import chain_key
    if ROW_HASH_COLUMN not in table.c:
        return None, 'none: the table has no row_hash column (no chain)'
    found = digest.take(connection, table, id_name, chain_key())
    if found is None:
        return None, 'none: no chained row yet'
    return found.line(), None
