"""``audit-alembic demo --keep`` leaves no password readable by others."""
import os
import shutil
import stat
import tempfile

from audit_alembic.cli.demo import drop_demo_tables
from test.cli.support import CLITestCase
from test.cli.support import url_text


class KeptPasswordTest(CLITestCase):
    __backend__ = True

    def test_alembic_ini_with_a_password_is_private(self):
        url = self.file_database_url()
        if not url.password:
            self.skipTest('the target URL has no password')
        directory = tempfile.mkdtemp(prefix='audit_alembic_demo_test_')
        self.addCleanup(shutil.rmtree, directory, True)
        kept = os.path.join(directory, 'kept')
        previous = os.umask(0o022)  # the usual one: files readable by all
        try:
            result = self.main('demo', '--url', url_text(url), '--keep', kept)
        finally:
            os.umask(previous)
        self.addCleanup(drop_demo_tables, url)
        text = self.assertSucceeds(result)
        ini = os.path.join(kept, 'alembic.ini')
        with open(ini) as f:
            self.assertIn(url.password, f.read())
        self.assertEqual(stat.S_IMODE(os.stat(ini).st_mode), 0o600)
        self.assertIn('(it holds the password: readable by you only, mode '
                      '0600)', text)
        self.assertNotIn(url.password, text)
