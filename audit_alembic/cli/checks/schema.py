"""The schema check: the live schema matches the last snapshot the
history recorded (``details=True``), so nothing changed it outside the
migrations since; the ``'drift'`` rows recorded before are noted."""
from ...values import CHANGE_TIME_COLUMN
from ...values import DRIFT
from ...values import MESSAGE_COLUMN
from ...values import RUN_ID_COLUMN
from ..output.schema import baseline_text
from ..output.schema import run_text
from ..output.text import escaped
from .base import Check

#: How many recorded drift rows the notes name one by one.
DRIFT_NOTES_SHOWN = 20
#: How many characters of the changes a problem shows.
SUMMARY_LENGTH = 500


class Schema(Check):
    """Compares the live schema with the last snapshot when it is made
    (see :func:`..schema_state.compare`), then notes each ``'drift'``
    row it is given.  Skipped where the table has no ``schema_hash``
    column or no snapshot yet."""

    name = 'schema'
    description = ('the schema matches the last recorded snapshot: nothing '
                   'changed it outside the migrations (recorded drift is '
                   'noted)')

    def __init__(self, subject):
        from ..schema_state import STALE_NOTE
        from ..schema_state import compare
        from ..schema_state import no_column_reason
        from ..schema_state import records_snapshots
        super().__init__()
        table, connection = subject.table, getattr(subject, 'connection',
                                                   None)
        self.time_name = subject.layout.name(CHANGE_TIME_COLUMN)
        self.recorded = []  # the 'drift' rows' RecordedSteps' columns
        if connection is None:
            self.skip('no database connection to read the schema on')
            return
        if not records_snapshots(table):
            self.skip(no_column_reason(table))
            return
        state = compare(connection, table, subject.layout)
        if state.baseline is None:
            self.skip(state.reason)
        elif not state.compared:
            self.problem('cannot compare the schema with %s: %s' % (
                baseline_text(state.baseline), state.reason),
                rows=[state.baseline.row_id])
        elif state.drift:
            self.problem('the schema differs from %s: %s' % (
                baseline_text(state.baseline), _summary(state.changes)),
                rows=[state.baseline.row_id])
        elif state.drift is None:
            self.notes.append('the schema differs from %s (%s), but %s' % (
                baseline_text(state.baseline), _summary(state.changes),
                STALE_NOTE))

    def add(self, step):
        """Keep ``step`` if it records drift."""
        if not self.skipped and step.status == DRIFT:
            self.recorded.append(step)

    def finish(self):
        """Note the recorded drift, oldest first."""
        for step in self.recorded[:DRIFT_NOTES_SHOWN]:
            columns = step.columns
            self.notes.append('drift recorded by %s: %s' % (
                run_text(step.id, columns.get(RUN_ID_COLUMN),
                         columns.get(self.time_name)),
                escaped(columns.get(MESSAGE_COLUMN))))
        more = len(self.recorded) - DRIFT_NOTES_SHOWN
        if more > 0:
            self.notes.append('and %d more drift rows' % more)


def _summary(changes):
    from ...schemadiff import summary
    return summary(changes, limit=SUMMARY_LENGTH) or \
        'its hash differs, no table, column, index or constraint does'
