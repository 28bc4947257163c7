"""The digests check of ``verify --digest``: each digest taken earlier
(see :mod:`audit_alembic.digest`) still witnesses the trail: its row is
there with the same hash, with as many chained rows up to it, and its
HMAC holds.  It catches what the chain alone cannot: the last rows
deleted, the table dropped and rebuilt, rows rewritten with every later
hash recomputed without the key."""
from ...values import ROW_HASH_COLUMN
from .base import Check


class Digests(Check):
    """Each digest given: its row, its hash, the rows up to it, its
    HMAC."""

    name = 'digests'
    description = ("each digest given still holds: its row is there, with "
                   'the same hash and as many chained rows up to it, and '
                   'its HMAC holds')

    def __init__(self, subject):
        from ... import digest
        from ... import hashing
        super().__init__()
        #: (what names it, Digest) pairs.
        self.digests = list(getattr(subject, 'digests', ()))
        self.hash_name = ROW_HASH_COLUMN
        self.chained = 0
        self.seen = {}  # row id -> (stored hash, chained rows up to it)
        self.wanted = {found.last_id for _, found in self.digests}
        table_name = digest.full_name(subject.table)
        key = hashing.chain_key()
        for source, found in self.digests:
            if found.table != table_name:
                self.problem('%s is of table %s, not %s' % (
                    source, found.table, table_name))
            if found.hmac is None:
                if key:
                    self.notes.append('%s has no HMAC: it was taken without '
                                      '%s' % (source, hashing.KEY_VARIABLE))
            elif not key:
                self.notes.append('the HMAC of %s is not checked: %s is not '
                                  'set' % (source, hashing.KEY_VARIABLE))
            elif not found.signature_holds(key):
                self.problem('%s: its HMAC does not hold under %s: it was '
                             'made up or changed, or taken with another key'
                             % (source, hashing.KEY_VARIABLE))
        if ROW_HASH_COLUMN not in subject.table.c:
            for source, found in self.digests:
                self.problem('%s witnesses row %s, but table %s has no '
                             'row_hash column: it was rebuilt' % (
                                 source, found.last_id,
                                 subject.table.fullname))
            self.wanted = set()

    @classmethod
    def made_for(cls, subject, earlier):
        return cls(subject)

    def add(self, step):
        if not self.wanted:
            return
        stored = step.columns[self.hash_name]
        if stored is not None:
            self.chained += 1
        if step.id in self.wanted:
            self.seen[step.id] = (stored, self.chained)

    def finish(self):
        for source, found in self.digests:
            if found.last_id not in self.wanted:
                continue
            if found.last_id not in self.seen:
                self.problem(
                    'row %s, the last chained row when %s was taken, is '
                    'missing: rows were deleted, or the table rebuilt'
                    % (found.last_id, source), rows=[found.last_id])
                continue
            stored, chained = self.seen[found.last_id]
            if stored != found.last_hash:
                self.problem(
                    'row %s has another hash than when %s was taken (%s, '
                    'now %s): it or a row before it was rewritten, and the '
                    'chain recomputed' % (
                        found.last_id, source, found.last_hash[:12] + '...',
                        (str(stored)[:12] + '...') if stored else 'none'),
                    rows=[found.last_id])
            elif chained != found.rows:
                self.problem(
                    '%d chained rows up to row %s, where %s counted %d: '
                    'rows were %s' % (
                        chained, found.last_id, source, found.rows,
                        'deleted' if chained < found.rows else 'inserted'),
                    rows=[found.last_id])
        if self.digests and self.passed:
            self.notes.append('%d digest(s) hold' % len(self.digests))
