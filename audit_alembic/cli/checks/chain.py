"""The chain check: each row's ``row_hash`` follows from the previous
chained row and the row's values (an HMAC with ``AUDIT_ALEMBIC_KEY``
where it is set), so that rows edited, deleted, inserted or reordered
are found."""
from ...values import DURATION_COLUMN
from ...values import HOST_COLUMN
from ...values import OS_USER_COLUMN
from ...values import ROW_HASH_COLUMN
from ...values import chained_names
from .base import Check

#: Columns an online writer always fills and an offline script leaves
#: NULL.
ONLINE_ONLY = (HOST_COLUMN, OS_USER_COLUMN, DURATION_COLUMN)
#: How many broken links ``verify`` describes one by one.
CHAIN_PROBLEMS_SHOWN = 20


class Chain(Check):
    """The chain check: each ``row_hash`` recomputed from the link before
    it (see :mod:`audit_alembic.hashing`) and the row's values."""

    name = 'chain'
    #: Each check says which hash it computes (see :meth:`__init__`).
    description = ("each row's hash follows from the rows before it "
                   '(HMAC-SHA-256 with AUDIT_ALEMBIC_KEY where it is set)')

    def __init__(self, subject):
        from ... import hashing
        super().__init__()
        table, layout, strict = subject.table, subject.layout, subject.strict
        self.key = hashing.chain_key()
        self.key_variable = hashing.KEY_VARIABLE
        self.chain_hash = hashing.chain_hash
        self.fold = hashing.fold
        self.strict = strict
        mode = ('HMAC-SHA-256 with %s' % hashing.KEY_VARIABLE if self.key else
                'SHA-256; %s is not set' % hashing.KEY_VARIABLE)
        self.description = ("each row's hash follows from the rows before "
                            'it (%s)' % mode)
        self.names = chained_names(layout.names, present=table.c)
        self.active = ROW_HASH_COLUMN in table.c and all(
            name in table.c for name in self.names)
        if not self.active:
            self.skip('the history table has no row_hash column '
                      '(Auditor.create(details=True) adds it)')
        self.previous = None  # the last chained row's hash
        self.previous_id = None
        self.chained = 0
        self.mismatches = 0
        self.broken = []  # (row id, message)
        self.unchained = []  # rows before the first chained one
        self.pending = []  # (row id, values) of unchained rows since then
        self.vouched = []  # offline rows a later chained row vouches for
        self.read_from([column.name for column in table.columns])

    def read_from(self, keys):
        """Take rows as tuples of the columns ``keys``."""
        import operator
        if self.active:
            self.hash_at = keys.index(ROW_HASH_COLUMN)
            self.chained_values = operator.itemgetter(
                *[keys.index(name) for name in self.names])
            # What an online writer always fills, an offline script never.
            self.online_values = operator.itemgetter(
                *[keys.index(name) for name in ONLINE_ONLY])

    def add(self, step):
        """Check ``step``'s hash, or note it unchained."""
        if not self.active:
            return
        row_id, row = step.id, step.values
        stored = row[self.hash_at]
        if stored is None:
            if self.previous_id is None:
                self.unchained.append(row_id)
                return
            # The next online writer folds it into its link, whatever it
            # looks like; one written online has lost its hash.
            self.pending.append((row_id, self.chained_values(row)))
            if any(value is not None for value in self.online_values(row)):
                self.broken.append((row_id, (
                    'row %s has no hash, though rows up to %s are chained '
                    'and it was written online (it has a host, user or '
                    'duration): its hash was removed' % (
                        row_id, self.previous_id))))
            return
        self.chained += 1
        values = self.chained_values(row)
        pending, self.pending = self.pending, []
        link = self.fold(self.previous, [v for _, v in pending], self.key)
        if self.chain_hash(link, values, self.key) == stored:
            self.vouched.extend(row_id for row_id, _ in pending)
        elif pending and self.chain_hash(
                self.previous, values, self.key) == stored:
            for unchained_id, _ in pending:
                self.broken.append((unchained_id, (
                    'row %s has no hash, and row %s, the next chained row, '
                    'was written without it: it was inserted between rows '
                    '%s and %s later' % (unchained_id, row_id,
                                         self.previous_id, row_id))))
        else:
            self.mismatches += 1
            if self.previous_id is None:
                where = 'the first chained row'
            else:
                where = 'after row %s' % self.previous_id
            self.broken.append((row_id, (
                'row %s (%s): its hash does not follow from its values and '
                'the rows before: it was edited, or rows before it were '
                'deleted, inserted or reordered' % (row_id, where))))
        # Carry on from the stored hash: one tampered row, one problem.
        self.previous, self.previous_id = stored, row_id

    def finish(self):
        """Report the broken links (all of them as one where none
        holds), and the unchained rows."""
        if not self.active:
            return
        if self.mismatches == self.chained > 1:
            self.problem(
                'wrong key or tampered: none of the %d chained rows checks '
                '(%s)' % (self.chained, '%s is set' % self.key_variable
                          if self.key else '%s is not set: were they written '
                          'with a key?' % self.key_variable),
                rows=[row_id for row_id, _ in self.broken[:1]])
        else:
            for row_id, message in self.broken[:CHAIN_PROBLEMS_SHOWN]:
                self.problem(message, rows=[row_id])
            if len(self.broken) > CHAIN_PROBLEMS_SHOWN:
                self.problem('and %d more rows like these' % (
                    len(self.broken) - CHAIN_PROBLEMS_SHOWN),
                    rows=[row_id for row_id, _ in
                          self.broken[CHAIN_PROBLEMS_SHOWN:]])
        trailing = [row_id for row_id, _ in self.pending]
        if trailing and self.strict:
            self.problem(
                '%s unchained after the last chained row, and no online '
                'run has vouched for %s yet (--strict): %s' % (
                    _rows(trailing), 'it' if len(trailing) == 1 else 'them',
                    _ids(trailing)), rows=trailing)
            trailing = []
        for rows, why in (
                (self.unchained, '(written before the chain started), not '
                                 'checked'),
                (self.vouched, '(written by offline scripts), each covered '
                               'by the hash of the next chained row'),
                (trailing, 'after the last chained row (offline scripts?), '
                           'covered by no hash until the next online run; '
                           '--strict fails on them')):
            if rows:
                self.notes.append('%s unchained %s: %s' % (
                    _rows(rows), why, _ids(rows)))


def _rows(ids):
    return '%d row%s' % (len(ids), ' is' if len(ids) == 1 else 's are')


def _ids(ids):
    more = len(ids) - 10
    return ', '.join(str(i) for i in ids[:10]) + (
        ' and %d more' % more if more > 0 else '')
