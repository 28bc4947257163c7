"""The failures check: every ``'failed'`` attempt (a history table with
a ``status`` column) was made good."""
from ...values import DIRECTION_COLUMN
from ...values import DOWN
from ...values import MIGRATION
from ...values import OPERATION_COLUMN
from ...values import STATUS_COLUMN
from ..output.text import revisions as show
from .base import Check


class Attempt:
    """A failed attempt to apply (or unapply) one revision.

    :ivar row_id: the id of the row that recorded it.
    :ivar revision: the revision whose script failed.
    :ivar is_downgrade: whether it was to unapply the revision.
    :ivar heads_before: the sets of revisions the database may have been
        at when it was recorded: those the row gives, and those the rows
        before it lead to.
    :ivar made_good: whether a later successful step made the same move.
    """
    __slots__ = ('row_id', 'revision', 'is_downgrade', 'heads_before',
                 'made_good')

    def __init__(self, row_id, revision, is_downgrade, heads_before):
        self.row_id = row_id
        self.revision = revision
        self.is_downgrade = is_downgrade
        self.heads_before = heads_before
        self.made_good = False


class Failures(Check):
    """Was each failed attempt made good?

    It was when what it attempted has happened: a later successful step
    made the same move (an upgrade, or a stamp up, that took its
    revision in; a downgrade, or a stamp down, that took it out), or the
    database's revisions include its revision (a failed upgrade) or
    exclude it (a failed downgrade), now or already when the attempt was
    recorded, as its own row or the rows before it say (``replay``, the
    replay check, tells the latter): processes racing to the same
    upgrade commit their rows in any order.  A database at a revision
    has all its ancestors, as the scripts say or, for revisions they
    lack, as the recorded migrations say.
    """
    name = 'failures'
    description = ("every 'failed' attempt was made good: a step made "
                   'the same move, or the database has it made')

    @classmethod
    def made_for(cls, subject, earlier):
        """The failures check, reading the replay check of ``earlier``."""
        from .replay import Replay
        return cls(subject, next(check for check in earlier
                                 if isinstance(check, Replay)))

    def __init__(self, subject, replay):
        super().__init__()
        if STATUS_COLUMN not in subject.table.c:
            self.skip('the history table has no status column')
        direction = subject.layout.name(DIRECTION_COLUMN)
        self.direction = direction if direction in subject.table.c else None
        self.kind = subject.layout.name(OPERATION_COLUMN)
        self.ancestry = subject.ancestry
        self.version_heads = set(subject.version_heads)
        self.replay = replay
        self.parents = {}  # revision -> its down revisions, as recorded
        self.attempts = []  # every Attempt, oldest first
        self.pending = {}  # (revision, is downgrade) -> Attempts not made good
        self.known = {}  # heads -> the revisions applied there

    def _is_down(self, step):
        return self.direction is not None and \
            step.columns[self.direction] == DOWN

    def add(self, step):
        if step.is_failed:
            self.failed(step, self.replay.state)
        elif step.is_ok:
            self.succeeded(step)

    def failed(self, step, state):
        """The failed attempt ``step``, from its sources (the revisions
        after its rollback) to its destinations (the revision whose
        script failed); the rows before it lead to ``state`` (None
        before the first step)."""
        down = self._is_down(step)
        before = [frozenset(step.sources)]
        if state is not None:
            before.append(frozenset(state))
        for revision in step.destinations:
            attempt = Attempt(step.id, revision, down, before)
            self.attempts.append(attempt)
            self.pending.setdefault((revision, down), []).append(attempt)

    def succeeded(self, step):
        """A successful step: it makes good the failed attempts before it
        of the same move, and tells the down revisions of a migration's
        revision."""
        down = self._is_down(step)
        sources, destinations = step.sources, step.destinations
        for revision in (sources - destinations if down
                         else destinations - sources):
            for attempt in self.pending.pop((revision, down), ()):
                attempt.made_good = True
        if step.columns[self.kind] == MIGRATION:
            one, others = (sources, destinations) if down else \
                (destinations, sources)
            if len(one) == 1:
                self.parents[next(iter(one))] = others

    def applied(self, heads):
        """The revisions a database at ``heads`` has applied."""
        key = frozenset(heads)
        found = self.known.get(key)
        if found is None:
            found = self.known[key] = set()
            todo = list(key)
            while todo:
                revision = todo.pop()
                if revision in found:
                    continue
                if revision in self.ancestry:
                    found |= self.ancestry[revision]
                else:
                    found.add(revision)
                    todo.extend(self.parents.get(revision, ()))
        return found

    def finish(self):
        """A problem for each failed attempt not made good, the database
        being at the version table's revisions."""
        heads = self.version_heads
        for attempt in self.attempts:
            down = attempt.is_downgrade
            if attempt.made_good or any(
                    (attempt.revision in self.applied(revisions)) != down
                    for revisions in [heads] + attempt.heads_before):
                continue
            self.problem(
                'the failed %s of row %s (revision %s) was not made good: '
                'no later step %s it, and the database (at %s) %s' % (
                    'downgrade' if down else 'upgrade', attempt.row_id,
                    attempt.revision, 'unapplied' if down else 'applied',
                    show(heads),
                    'still has it' if down else 'does not have it'),
                rows=[attempt.row_id], revisions=[attempt.revision])
