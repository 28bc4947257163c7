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
# Tools that start before this file (coverage, measuring a child process,
# keeps its data in SQLite) may have imported them already: forget them,
# so that the program's own import fails as it would.
for name in list(sys.modules):
    if name.split('.')[0] in {'sqlite3'} | {n.split('.')[0] for n in HIDDEN}:
        del sys.modules[name]
