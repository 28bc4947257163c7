import unittest


class SmokeTest(unittest.TestCase):
    def test_one(self):
        from audit_alembic.testing import config
        self.assertTrue(config.first_target().engine)
