"""The replay check: applying the recorded steps in order gives the
revisions in the version table, and each step starts where the steps
before it left the database."""
from ..output.text import revisions as show
from .base import Check


class Replay(Check):
    """Replays the successful steps (failed attempts and accepted edits
    changed nothing).

    :ivar state: the revisions the steps so far leave the database at;
        None before the first step.  The failures check reads it.
    """
    name = 'replay'
    description = ('the recorded steps lead to the revisions in the '
                   'version table')

    def __init__(self, subject):
        super().__init__()
        self.version_heads = set(subject.version_heads)
        self.script_ids = subject.script_ids
        self.ancestry = subject.ancestry
        self.state = None
        self.seen = set()  # every revision of the steps so far
        self.last_step_id = None  # the id of the last step
        self.last_row_id = None  # ... of the last row, failed or not

    def may_start(self, step, heads):
        """Whether ``step`` may start where the database is at ``heads``:
        from heads, or from an ancestor of one where it opens a new
        branch (none of its destinations applied yet); without the
        scripts, from any revision seen before."""
        for revision in step.sources:
            if revision in heads:
                continue
            if revision not in self.ancestry:
                if revision not in self.seen:
                    return False
                continue
            if not any(revision in self.ancestry.get(head, ())
                       for head in heads):
                return False
            applied = set().union(*(self.ancestry.get(head, {head})
                                    for head in heads))
            if step.destinations & applied:
                return False  # not a new branch: a step again, or down
        return True

    def add(self, step):
        id_before, self.last_row_id = self.last_row_id, step.id
        if not step.is_ok:  # a failed attempt, an accepted edit
            return
        row_id, sources = step.id, step.sources
        state = self.state
        if state is None:
            if sources:
                self.notes.append(
                    'the history starts at %s (row %s), not at the base: '
                    'it was added to a project already under way'
                    % (show(sources), row_id))
            state = set(sources)
        elif not self.may_start(step, state):
            gap = id_before is not None and isinstance(row_id, int) and \
                isinstance(id_before, int) and row_id > id_before + 1
            if gap:
                self.problem(
                    'row %s starts from %s, but the rows before it leave the '
                    'database at %s; ids jump from %s to %s: rows were '
                    'deleted' % (row_id, show(sources), show(state),
                                 id_before, row_id),
                    rows=[id_before, row_id])
            else:
                self.problem(
                    'row %s starts from %s, but row %s left the database at '
                    '%s: it was moved without the auditor in between (an '
                    'alembic stamp or upgrade run without it, or a manual '
                    'UPDATE of the version table)'
                    % (row_id, show(sources), self.last_step_id,
                       show(state)),
                    rows=[self.last_step_id, row_id])
            state = set(sources)
        self.state = (state - sources) | step.destinations
        self.seen.update(sources, step.destinations)
        self.last_step_id = row_id

    def finish(self):
        heads, state = self.version_heads, self.state
        if state is None:
            if heads:
                self.problem('the history is empty, but the version table '
                             'holds %s' % show(heads),
                             revisions=sorted(heads))
            return
        if state == heads:
            return
        if self.script_ids is not None and heads - self.script_ids:
            how = ('%s is not a revision of the script directory: a manual '
                   'UPDATE of the version table'
                   % show(heads - self.script_ids))
        elif not heads:
            how = ('the version table is empty or missing: it was emptied '
                   'or dropped after row %s, or the database is not the one '
                   'the history was written in' % self.last_step_id)
        else:
            how = ('it was changed without the auditor after row %s (a '
                   'manual UPDATE, or an alembic stamp run without the '
                   'auditor)' % self.last_step_id)
        self.problem('the history leads to %s, but the version table '
                     'holds %s: %s' % (show(state), show(heads), how),
                     revisions=sorted(heads ^ state))
