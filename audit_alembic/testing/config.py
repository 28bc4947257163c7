"""The database targets of the current test run.

The runner plugin fills :data:`targets` before the first test; the first
one is where tests run unless a ``__backend__`` class is bound to another.
"""
#: The :class:`Target` objects of this run, with connected engines.
targets = []


def set_targets(new_targets):
    """Replace the targets of this run."""
    targets[:] = new_targets


def first_target():
    """The target tests run against by default.

    Outside the runner plugins (plain ``python -m unittest``) this is an
    in-memory SQLite database.
    """
    if not targets:
        from sqlalchemy.engine import make_url

        from .provision import Target
        from .provision import connect_all
        set_targets(connect_all([Target('sqlite', make_url('sqlite://'))]))
    return targets[0]


def target_named(label):
    """The target of this run labelled ``label``."""
    for target in targets:
        if target.label == label:
            return target
    raise LookupError('no target %r in this run' % label)
