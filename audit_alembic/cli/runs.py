"""The runs of a history: its rows grouped by ``run_id``, each run with
what a reader asks of it (when, who, from where, between which
revisions, how long, how it ended).

A row is a dict keyed by role (see :class:`~.layout.TableLayout`; the
detail columns by their own names), oldest first.  Rows without a run id
(a table without the column, or rows written before it had one) are
each a run of their own.
"""
import datetime

from ..values import CHANGE_TIME_COLUMN
from ..values import DB_USER_COLUMN
from ..values import DRIFT
from ..values import DURATION_COLUMN
from ..values import FAILED
from ..values import HOST_COLUMN
from ..values import ID_COLUMN
from ..values import NEW_VERSION_COLUMN
from ..values import OK
from ..values import OLD_VERSION_COLUMN
from ..values import OS_USER_COLUMN
from ..values import RUN_ID_COLUMN
from ..values import STATUS_COLUMN
from ..values import USER_VERSION_COLUMN

#: A run's outcome, from the worst: a failed attempt, drift found, every
#: step made, and a run of no step (``snapshot`` or ``accepted`` rows).
OUTCOMES = (FAILED, DRIFT, OK, 'other')


class Run:
    """One Alembic command's rows, oldest first.

    :ivar key: the run id, or ``#<row id>`` for a row without one.
    :ivar rows: every row of the run.
    :ivar steps: the rows that are steps (status ``ok``, ``failed`` or
        NULL): no ``snapshot``, ``accepted`` or ``drift`` row.
    """

    def __init__(self, key, rows):
        self.key = key
        self.rows = rows
        self.steps = [row for row in rows
                      if row.get(STATUS_COLUMN) in (OK, FAILED, None)]

    @property
    def run_id(self):
        """The run id, or None for a row without one."""
        return self.rows[0].get(RUN_ID_COLUMN)

    @property
    def started(self):
        """The change time of its first row (a datetime, or the stored
        value where it is no time)."""
        return self.rows[0].get(CHANGE_TIME_COLUMN)

    @property
    def ended(self):
        """The change time of its last row."""
        return self.rows[-1].get(CHANGE_TIME_COLUMN)

    @property
    def outcome(self):
        """``failed``, ``drift``, ``ok`` or ``other`` (see
        :data:`OUTCOMES`)."""
        statuses = {row.get(STATUS_COLUMN) for row in self.rows}
        if FAILED in statuses:
            return FAILED
        if DRIFT in statuses:
            return DRIFT
        if self.steps:
            return OK
        return 'other'

    @property
    def kinds(self):
        """The statuses of its rows that are no step, sorted (e.g.
        ``['snapshot']``)."""
        return sorted({row.get(STATUS_COLUMN) for row in self.rows} -
                      {OK, FAILED, None})

    def moved(self):
        """``(from, to)``: the stored revisions the run started from and
        those the database was left at (where its last step failed, the
        revisions that step started from)."""
        rows = self.steps or self.rows
        start = rows[0].get(OLD_VERSION_COLUMN)
        last = rows[-1]
        if last.get(STATUS_COLUMN) == FAILED:
            return start, last.get(OLD_VERSION_COLUMN)
        return start, last.get(NEW_VERSION_COLUMN)

    @property
    def duration_ms(self):
        """The sum of its steps' durations, or None where none is known."""
        known = [row.get(DURATION_COLUMN) for row in self.rows
                 if isinstance(row.get(DURATION_COLUMN), int)]
        return sum(known) if known else None

    def first(self, name):
        """The first value of column ``name`` that is not NULL, or None."""
        for row in self.rows:
            if row.get(name) is not None:
                return row[name]
        return None

    @property
    def who(self):
        """``os_user@host`` (either part alone where the other is
        unknown), or None."""
        user, host = self.first(OS_USER_COLUMN), self.first(HOST_COLUMN)
        if user is None and host is None:
            return None
        if user is None or host is None:
            return str(user if host is None else host)
        return '%s@%s' % (user, host)

    @property
    def db_user(self):
        """The database user, or None."""
        return self.first(DB_USER_COLUMN)

    @property
    def versions(self):
        """The application versions its rows name, in order, once each."""
        seen = []
        for row in self.rows:
            value = row.get(USER_VERSION_COLUMN)
            if value is not None and value not in seen:
                seen.append(value)
        return seen


def group_runs(rows):
    """The :class:`Run` objects of ``rows`` (oldest first), in the order
    of their first rows."""
    runs, by_key = [], {}
    for row in rows:
        run_id = row.get(RUN_ID_COLUMN)
        key = run_id if run_id else '#%s' % (row.get(ID_COLUMN),)
        if key in by_key:
            by_key[key].append(row)
        else:
            by_key[key] = [row]
            runs.append(key)
    return [Run(key, by_key[key]) for key in runs]


def revision_ranks(runs, split):
    """Stored revision value -> its height on the timeline: the base 0,
    then each revision in the order the history first names it; a value
    of several revisions takes the highest.  ``split`` splits a stored
    value into revision ids.  The function's ``top`` is the highest
    rank."""
    order = {}
    for run in runs:
        for row in run.rows:
            for role in (OLD_VERSION_COLUMN, NEW_VERSION_COLUMN):
                for revision in split(row.get(role)):
                    order.setdefault(revision, len(order) + 1)

    def rank(value):
        if value is not None and value.__class__ is not str:
            return 0
        return max([order.get(part, 0) for part in split(value)] or [0])
    rank.top = len(order)
    return rank


def is_time(value):
    """Whether a change time can go on the time axis."""
    return isinstance(value, datetime.datetime)
