"""``python -m audit_alembic``: the ``audit-alembic`` command line."""
import sys
from typing import Callable
from typing import cast

from audit_alembic.cli import main

if __name__ == '__main__':
    # The command line is not annotated yet: main() returns the status.
    sys.exit(cast(Callable[[], int], main)())
