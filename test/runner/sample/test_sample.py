import os
import time
import unittest

import audit_alembic
from audit_alembic.testing.fixtures import TestBase

CHECKOUT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))))


class SampleTest(unittest.TestCase):
    def test_checkout_package_comes_first(self):
        self.assertEqual(os.path.dirname(os.path.dirname(
            os.path.abspath(audit_alembic.__file__))), CHECKOUT)
        # Where AUDIT_ALEMBIC_SAMPLE_PARENT names a file, note in it the
        # parent of the process running the test: the runner's parent,
        # or the runner where a worker runs it.
        path = os.environ.get('AUDIT_ALEMBIC_SAMPLE_PARENT')
        if path:
            with open(path, 'a') as f:
                f.write('%d\n' % os.getppid())

    def test_fails_on_request(self):
        self.assertFalse(os.environ.get('AUDIT_ALEMBIC_SAMPLE_FAIL'),
                         'failing as AUDIT_ALEMBIC_SAMPLE_FAIL asks')


class SampleCrashTest(TestBase):
    def test_crashes_on_request(self):
        crash = os.environ.get('AUDIT_ALEMBIC_SAMPLE_CRASH')
        if crash == 'hang':
            hanging = os.environ.get('AUDIT_ALEMBIC_SAMPLE_HANGING')
            if hanging:  # tell the test that stops the run
                open(hanging, 'w').close()
            try:
                time.sleep(120)  # until the run is stopped
            except KeyboardInterrupt:
                # Still busy with the database as the run stops, like a
                # test's cleanup.
                with self.engine.begin() as connection:
                    connection.exec_driver_sql(
                        'CREATE TABLE sample_stopped (id INTEGER)')
                raise
        elif crash:
            os._exit(3)  # a worker dying mid-run


class SampleBackendTest(TestBase):
    __backend__ = True

    def test_target_answers(self):
        with self.engine.connect() as connection:
            self.assertEqual(connection.exec_driver_sql('SELECT 1').scalar(),
                             1)
