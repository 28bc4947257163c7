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
* :mod:`.chain`: each row's hash follows from the rows before it.
"""
