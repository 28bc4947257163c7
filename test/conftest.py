"""Load the Audit-Alembic pytest plugin by file path.

Loading it this way, rather than importing it from the package, keeps
``audit_alembic`` unimported until coverage (``--cov``) has started.

The runner's sample suite is collected only when named (``pytest
test/runner/sample``), as the runner's tests do: its tests pass unless
those tests ask them not to.  (setup.cfg's ``[audit-alembic]
collect-ignore`` does the same under nose2.)
"""
import os
import runpy
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if sys.path[0] != ROOT:
    sys.path.insert(0, ROOT)

runpy.run_path(os.path.join(
    ROOT, 'audit_alembic', 'testing', 'plugin', 'bootstrap.py'
))['load_adapter']('pytest')

from audit_alembic_pytestplugin import *  # noqa: E402,F401,F403

collect_ignore = ['runner/sample']
