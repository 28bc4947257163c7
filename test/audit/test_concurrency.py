"""Several ``alembic upgrade head`` processes at once (see
bench/concurrent_upgrades.py for the longer race)."""
from audit_alembic.testing.fixtures import AlembicProcess
from audit_alembic.testing.fixtures import TestBase
from audit_alembic.values import DEFAULT_TABLE_NAME
from test.audit.graphs import LINEAR

PROCESSES = 3


class ConcurrentUpgradeTest(TestBase):
    __backend__ = True

    def test_processes_racing_record_each_step_once(self):
        env = self.process_scratch_env(LINEAR)
        running = [AlembicProcess(env.ini_path, 'upgrade', 'head',
                                  environ={'APP_VERSION': '1.0'})
                   for _ in range(PROCESSES)]
        for process in running:
            process.wait()
        errors = [process.stderr for process in running]
        # Losers of the race may fail as bare Alembic would (a table
        # created meanwhile, a locked database), never over the history.
        for stderr in errors:
            self.assertNotIn(DEFAULT_TABLE_NAME, stderr)
        if env.heads() != {'C'}:
            env.run('upgrade', 'head')
        history = env.history()
        self.assertEqual(
            [(row['prev_alembic_version'], row['alembic_version'])
             for row in history if row['status'] != 'failed'],
            [('', 'A'), ('A', 'B'), ('B', 'C')])
        # Failed attempts come from the processes that lost, with their
        # error (a loser may also fail before any step, or find the
        # database locked while recording it).
        failed = [row for row in history if row['status'] == 'failed']
        self.assertLessEqual(
            len(failed), sum(process.returncode != 0 for process in running))
        self.assertTrue(all(row['error'] for row in failed))
