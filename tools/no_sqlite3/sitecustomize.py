"""Hide the standard sqlite3 module, as on a Python built without it.

Put this folder first on PYTHONPATH to check that everything still works
with pysqlite3 standing in (CI does), or fails with a clear message.
Set AUDIT_ALEMBIC_HIDE_PYSQLITE3=1 to hide pysqlite3 as well.
"""
import os
import sys

HIDDEN = {'_sqlite3'}
if os.environ.get('AUDIT_ALEMBIC_HIDE_PYSQLITE3'):
    HIDDEN.update({'pysqlite3', 'pysqlite3.dbapi2', 'pysqlite3._sqlite3'})


class HideModules:
    """A meta path finder that refuses to find the hidden modules."""

    def find_spec(self, name, path=None, target=None):
        if name in HIDDEN:
            raise ModuleNotFoundError('No module named %r' % name, name=name)
        return None


sys.meta_path.insert(0, HideModules())
