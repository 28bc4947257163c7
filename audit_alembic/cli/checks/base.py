"""The shape every check of ``verify`` has, and what it is given: the
subject of the checks, and each history row as a recorded step."""
from ...values import ID_COLUMN
from ...values import FAILED
from ...values import NEW_VERSION_COLUMN
from ...values import OK
from ...values import OLD_VERSION_COLUMN
from ...values import STATUS_COLUMN


class Subject:
    """What the checks compare the history with, and how to read it.

    :ivar table: the history table, as reflected.
    :ivar layout: the :class:`~..layout.TableLayout` naming its columns.
    :ivar version_heads: the revisions in the version table, sorted.
    :ivar scripts: the Alembic script directory, or None where none was
        given.
    :ivar script_ids: the set of its revision ids (None without it).
    :ivar ancestry: revision id -> the revisions a database at it has
        applied, as the scripts say (empty without them).
    :ivar strict: whether ``--strict`` was given.
    :ivar digests: ``(what names it, Digest)`` pairs of the digests given
        (``--digest``), which the digests check holds the history to.
    """

    def __init__(self, table, layout, version_heads, scripts=None,
                 strict=False):
        self.table = table
        self.layout = layout
        self.version_heads = version_heads
        self.scripts = scripts
        self.strict = strict
        self.digests = []
        if scripts is None:
            self.script_ids = None
            self.ancestry = {}
        else:
            self.script_ids = {script.revision
                               for script in scripts.walk_revisions()}
            self.ancestry = ancestors_of(scripts, self.script_ids)
        self.has_status = STATUS_COLUMN in table.c
        self.id_name, self.old_name, self.new_name = [
            layout.name(role) for role in (ID_COLUMN, OLD_VERSION_COLUMN,
                                           NEW_VERSION_COLUMN)]


def ancestors_of(scripts, revisions):
    """Revision -> the set of revisions a database at it has applied
    (itself, its down revisions and dependencies, recursively)."""
    return {revision: {r.revision for r in
                       scripts.revision_map.iterate_revisions(
                           revision, 'base', inclusive=True)}
            for revision in revisions}


class RecordedStep:
    """One row of the history table, as every check is given it.

    :ivar values: the row as read (see :func:`~audit_alembic.stored.
        as_stored`), a tuple in the order of the table's columns.
    :ivar columns: the same values by column name.
    :ivar id: the row's id.
    :ivar sources: the set of revisions the step started from (empty:
        the base).
    :ivar destinations: the set of revisions it led to.
    :ivar status: its ``status``: ``'ok'``, ``'failed'``, ``'accepted'``,
        or None where
        the table has no such column or the row was written before it
        had one.
    """
    __slots__ = ('values', 'columns', 'id', 'sources', 'destinations',
                 'status')

    def __init__(self, values, subject):
        columns = values._mapping
        self.values = values
        self.columns = columns
        self.id = columns[subject.id_name]
        self.sources = set(subject.layout.split(columns[subject.old_name]))
        self.destinations = set(subject.layout.split(
            columns[subject.new_name]))
        self.status = columns[STATUS_COLUMN] if subject.has_status else None

    @property
    def is_failed(self):
        """Whether the row records a failed attempt."""
        return self.status == FAILED

    @property
    def is_ok(self):
        """Whether the row records a successful step (a row without a
        status was written by a version that recorded only those)."""
        return self.status in (OK, None)


class Check:
    """One check of ``verify``: fed every history row, oldest first, by
    :meth:`add`, then :meth:`finish` settles its problems and notes.

    :ivar name: what the report calls it.
    :ivar description: what it checks, in a line (``verify --help``
        lists both).
    :ivar problems: dicts, each with a ``message`` and the ``rows`` (ids)
        or ``revisions`` concerned; the check passed if there are none.
    :ivar notes: lines worth knowing that are no problem.
    :ivar skipped: whether the check could not run (then it is given no
        rows, and passes).
    :ivar skip_reason: why it could not, or None.
    """
    name = None
    description = None

    def __init__(self):
        self.problems = []
        self.notes = []
        self.skipped = False
        self.skip_reason = None

    @classmethod
    def made_for(cls, subject, earlier):
        """This check of ``subject``; ``earlier`` holds the checks made
        before it, for a check that reads another."""
        return cls(subject)

    @property
    def passed(self):
        """Whether the check found no problem."""
        return not self.problems

    def skip(self, reason):
        """Note that the check cannot run, and why."""
        self.skipped = True
        self.skip_reason = reason

    def problem(self, message, **concerned):
        """Add a problem: ``message``, and the ``rows`` or ``revisions``
        concerned."""
        self.problems.append(dict(concerned, message=message))

    def add(self, step):
        """Take the next row of the history, a :class:`RecordedStep`."""

    def finish(self):
        """Every row was given: add the problems and notes still due."""
