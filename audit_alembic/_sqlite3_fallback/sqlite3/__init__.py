"""``sqlite3`` for Pythons built without it: pysqlite3 in its place.

Only on ``PYTHONPATH`` of the child processes Audit-Alembic starts, and
only where the standard module is missing.
"""
import sys

import pysqlite3
from pysqlite3 import *  # noqa: F401,F403
from pysqlite3 import dbapi2

sys.modules[__name__] = pysqlite3
sys.modules[__name__ + '.dbapi2'] = dbapi2
