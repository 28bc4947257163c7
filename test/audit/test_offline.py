"""Offline mode (``--sql``): a script that records the steps when run."""
import re

from sqlalchemy import text

from audit_alembic import Auditor
from audit_alembic.testing.fixtures import TestBase
from test.audit.graphs import BRANCHY
from test.audit.graphs import LINEAR

TRICKY = "it's \"quoted\"; -- and \\ escaped"
CREATE = re.compile(
    r'CREATE TABLE (IF NOT EXISTS )?[`"]?alembic_version_history')
INSERT = re.compile(r'INSERT INTO [`"]?alembic_version_history\b.*', re.S)


def statements(script):
    """The SQL statements of an Alembic offline script."""
    lines = [line for line in script.splitlines()
             if not line.startswith('--')]
    for statement in re.split(r';\s*$', '\n'.join(lines), flags=re.M):
        statement = statement.strip()
        if statement and not re.match(r'(BEGIN|COMMIT)\b', statement):
            yield statement


class OfflineTest(TestBase):
    __backend__ = True

    def execute(self, script):
        with self.engine.begin() as connection:
            for statement in statements(script):
                connection.execute(text(statement).execution_options(
                    no_parameters=True))

    def test_one_create_and_one_insert_per_step(self):
        env = self.scratch_env(LINEAR, auditor=Auditor.create(TRICKY))
        script = env.sql('upgrade', 'head')
        self.assertEqual(len(CREATE.findall(script)), 1)
        inserts = [s for s in statements(script) if INSERT.match(s)]
        self.assertEqual(len(inserts), 3)
        for insert in inserts:
            outside_literals = re.sub(r"'(?:[^'\\]|''|\\.)*'", "''", insert)
            self.assertNotRegex(outside_literals, r'%\(|%s|\?|:\w')
            self.assertRegex(
                insert, r"'\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?'")

    def test_script_records_what_online_mode_would(self):
        env = self.scratch_env(LINEAR, auditor=Auditor.create(TRICKY))
        self.execute(env.sql('upgrade', 'head'))
        self.assertEqual(env.heads(), {'C'})
        rows = env.history()
        self.assertEqual(
            [(r['prev_alembic_version'], r['alembic_version'],
              r['operation_type'], r['operation_direction'],
              r['user_version']) for r in rows],
            [('', 'A', 'migration', 'up', TRICKY),
             ('A', 'B', 'migration', 'up', TRICKY),
             ('B', 'C', 'migration', 'up', TRICKY)])
        self.assertTrue(all(r['changed_at'] for r in rows))
        self.execute(env.sql('downgrade', 'C:A'))
        self.assertEqual(env.heads(), {'A'})
        self.assertEqual(
            [(r['prev_alembic_version'], r['operation_direction'])
             for r in env.history()[3:]], [('C', 'down'), ('B', 'down')])

    def test_branchy_script(self):
        env = self.scratch_env(BRANCHY)
        script = env.sql('upgrade', 'heads')
        self.assertEqual(len(CREATE.findall(script)), 1)
        self.execute(script)
        rows = env.history()
        self.assertEqual(len(rows), len(BRANCHY))
        self.assertEqual(env.heads(), {'H'})
        merge = [r for r in rows if r['alembic_version'] == 'H']
        self.assertEqual(merge[0]['prev_alembic_version'], 'G##G2##G4')
