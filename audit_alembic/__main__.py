"""``python -m audit_alembic``: the ``audit-alembic`` command line."""
import sys

from audit_alembic.cli import main

if __name__ == '__main__':
    sys.exit(main())
