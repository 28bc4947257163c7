"""Branches, merges, dependencies and stamps, recorded as Alembic ran them.

Besides checking chosen rows, every scenario replays the whole history
(each row removes its source revisions from the set of heads and adds
its destinations) and compares the result with Alembic's own version
table after each command.
"""
from audit_alembic.testing.fixtures import TestBase
from test.audit.graphs import BRANCHY


def revisions(joined):
    return set(joined.split('##')) - {''}


def step(row):
    return (row['prev_alembic_version'], row['alembic_version'],
            row['operation_type'], row['operation_direction'])


class BranchyGraphTest(TestBase):
    __backend__ = True

    def setUp(self):
        self.env = self.scratch_env(BRANCHY)
        self.seen = 0

    def run_command(self, *command):
        """Run an Alembic command; return the steps it recorded."""
        self.env.run(*command)
        rows = self.env.history()
        heads = set()
        for row in rows:
            heads = heads - revisions(row['prev_alembic_version']) \
                | revisions(row['alembic_version'])
        self.assertEqual(heads, self.env.heads(),
                         'history disagrees with alembic_version after %s'
                         % (command,))
        new, self.seen = rows[self.seen:], len(rows)
        return [step(row) for row in new]

    def test_branch_merge_and_unmerge(self):
        self.assertEqual(self.run_command('upgrade', 'E'), [
            ('', 'A', 'migration', 'up'), ('A', 'B', 'migration', 'up'),
            ('B', 'C', 'migration', 'up'), ('C', 'D', 'migration', 'up'),
            ('D', 'E', 'migration', 'up')])
        self.assertEqual(self.run_command('upgrade', 'E0'), [
            ('C', 'D0', 'migration', 'up'), ('D0', 'E0', 'migration', 'up')])
        self.assertEqual(self.run_command('upgrade', 'F'), [
            ('E##E0', 'F', 'migration', 'up')])
        self.assertEqual(self.run_command('downgrade', 'E0'), [
            ('F', 'E##E0', 'migration', 'down')])

    def test_upgrade_heads_then_base(self):
        up = self.run_command('upgrade', 'heads')
        self.assertEqual(len(up), len(BRANCHY))
        by_destination = {new: prev for prev, new, _, _ in up}
        self.assertEqual(by_destination['F'], 'E##E0')
        self.assertEqual(by_destination['G'], 'F##F1')
        # H merges G and G2 and depends on G4: Alembic counts all three.
        self.assertEqual(by_destination['H'], 'G##G2##G4')
        self.assertEqual({kind for _, _, kind, _ in up}, {'migration'})
        order = [new for _, new, _, _ in up]
        for prev, new, _, _ in up:
            for source in revisions(prev):
                self.assertLess(order.index(source), order.index(new))
        down = self.run_command('downgrade', 'base')
        self.assertEqual(len(down), len(BRANCHY))
        self.assertEqual({direction for *_, direction in down}, {'down'})
        self.assertEqual(self.env.heads(), set())

    def test_partial_downgrade_of_a_merge_with_dependency(self):
        self.run_command('upgrade', 'heads')
        self.assertEqual(self.run_command('downgrade', 'G'), [
            ('H', 'G##G2##G4', 'migration', 'down')])

    def test_downgrade_two_branches_to_their_common_parent(self):
        self.run_command('upgrade', 'F1')
        self.run_command('upgrade', 'F2')
        self.assertEqual(sorted(self.run_command('downgrade', 'E1')), [
            ('F1', 'E1', 'migration', 'down'),
            ('F2', 'E1', 'migration', 'down')])

    def test_stamps(self):
        self.assertEqual(self.run_command('stamp', 'E'), [
            ('', 'E', 'stamp', 'up')])
        self.assertEqual(self.run_command('stamp', 'E0'), [
            ('', 'E0', 'stamp', 'up')])
        # From two heads down to their common ancestor, in one step.
        self.assertEqual(self.run_command('stamp', 'C'), [
            ('E##E0', 'C', 'stamp', 'down')])
        self.assertEqual(self.run_command('stamp', 'G4'), [
            ('C', 'G4', 'stamp', 'up')])
        self.assertEqual(self.run_command('stamp', 'G2'), [
            ('', 'G2', 'stamp', 'up')])
        self.assertEqual(self.run_command('stamp', 'H'), [
            ('G2##G4', 'H', 'stamp', 'up')])
        self.assertEqual(self.run_command('stamp', 'base'), [
            ('H', '', 'stamp', 'down')])
