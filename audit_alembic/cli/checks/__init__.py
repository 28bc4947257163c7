"""The checks of ``verify``, one class each, all of one shape.

A check is made from a :class:`~.base.Subject` (the history table, its
layout, the version table's revisions, the script directory), is given
every row of the history, oldest first, as a
:class:`~.base.RecordedStep` (:meth:`~.base.Check.add`), and then
settles its problems and notes (:meth:`~.base.Check.finish`).  A check
that cannot run says why when it is made (:meth:`~.base.Check.skip`),
and is given no rows.

* :mod:`.replay`: the recorded steps lead to the version table;
* :mod:`.scripts`: every recorded revision has its script, unchanged;
* :mod:`.failures`: every failed attempt was made good;
* :mod:`.chain`: each row's hash follows from the rows before it;
* :mod:`.schema`: the live schema matches the last snapshot;
* :mod:`.digests`: each digest given still holds.

:func:`feed` reads the history once and gives every row to each check.
"""
from .chain import Chain
from .failures import Failures
from .replay import Replay
from .schema import Schema
from .scripts import Scripts

#: The checks of ``verify``, in the order they are made and reported
#: (each made by its ``made_for``, given the checks made before it);
#: ``--digest`` adds :class:`.digests.Digests` after them.
CHECKS = (Replay, Scripts, Failures, Chain, Schema)
#: Rows fetched from the database at a time.
BATCH_SIZE = 1000


def feed(connection, table, subject, checks):
    """Give every row of ``table`` (``subject``'s history), oldest first,
    read once and streamed, to each of ``checks`` that runs; then let
    them finish."""
    from sqlalchemy import select

    from ...stored import as_stored
    from .base import RecordedStep
    running = [check for check in checks if not check.skipped]
    query = select(*[as_stored(column, connection.dialect)
                     for column in table.columns]
                   ).order_by(table.c[subject.id_name])
    result = connection.execution_options(
        stream_results=True, yield_per=BATCH_SIZE).execute(query)
    for values in result:
        step = RecordedStep(values, subject)
        for check in running:
            check.add(step)
    for check in running:
        check.finish()
