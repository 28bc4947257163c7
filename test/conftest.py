"""Load the Audit-Alembic pytest plugin by file path.

Loading it this way, rather than importing it from the package, keeps
``audit_alembic`` unimported until coverage (``--cov``) has started.
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
