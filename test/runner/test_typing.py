"""The library's annotations, as a type checker sees them (mypy)."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from audit_alembic.paths import PACKAGE_ROOT as ROOT

SNIPPET = '''\
import audit_alembic
from audit_alembic import CommonColumnValues, DetailColumnValues

reveal_type(audit_alembic.Auditor.create("1"))
reveal_type(CommonColumnValues.operation_direction(step=None))
reveal_type(DetailColumnValues.duration_ms(ctx=None))
reveal_type(audit_alembic.exc.AuditCreateError("x"))
'''


class TypedApiTest(unittest.TestCase):
    def test_create_is_seen_to_return_an_auditor(self):
        try:
            import mypy  # noqa: F401
        except ImportError:
            self.skipTest("mypy is not installed (pip install "
                          "'audit-alembic[test]' brings it)")
        folder = tempfile.mkdtemp(prefix='audit_alembic_typing_')
        self.addCleanup(shutil.rmtree, folder, True)
        with open(os.path.join(folder, 'snippet.py'), 'w') as f:
            f.write(SNIPPET)
        # The checkout's package (as an installed one's py.typed allows),
        # with the project's settings for its modules.
        env = dict(os.environ, MYPYPATH=ROOT)
        result = subprocess.run(
            # Its own modules' errors silent, as an installed package's
            # are (CI's mypy step checks them, with today's versions).
            [sys.executable, '-m', 'mypy', '--strict',
             '--follow-imports', 'silent', '--config-file',
             os.path.join(ROOT, 'pyproject.toml'), '--cache-dir',
             os.path.join(folder, 'cache'), 'snippet.py'], cwd=folder,
            env=env, capture_output=True, text=True, timeout=300)
        output = result.stdout + result.stderr
        self.assertEqual(result.returncode, 0, output)
        revealed = [line.split('Revealed type is ', 1)[1].replace(
                        'builtins.', '')
                    for line in output.splitlines()
                    if 'Revealed type is' in line]
        self.assertEqual(revealed, [
            '"audit_alembic.auditor.Auditor"', '"str"', '"int | None"',
            '"audit_alembic.exc.AuditCreateError"'], output)
