"""Clearing what earlier runs left: the per-run databases of killed runs
(named as :mod:`.provision` names them), and for ``--dropfirst`` on a
target without one of its own, every table of its database.
"""
import os
import re

from sqlalchemy import MetaData
from sqlalchemy import inspect

from .. import engines
from ..exc import CommandError
from . import backends
from .provision import PREFIX

_NAME = re.compile(r'^%s(\d+)_[0-9a-f]+$' % PREFIX)


def _running(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_leftover(name):
    match = _NAME.match(name)
    return bool(match) and not _running(int(match.group(1)))


def leftovers(url, engine=None, pid=None):
    """The per-run databases of killed runs on ``url``'s server (or
    beside its SQLite file), sorted; with ``pid``, those of the run
    started by that process instead."""
    names = backends.list_databases(url, engine, PREFIX)
    if pid is not None:
        return sorted(name for name in names
                      if name.startswith('%s%d_' % (PREFIX, pid)))
    return sorted(name for name in names if _is_leftover(name))


def reachable_leftovers(url, timeout=3):
    """:func:`leftovers` on ``url``; [] if it cannot be reached."""
    if not backends.on_server(url):
        return leftovers(url)
    try:
        engine = engines.create_engine(url)
    except CommandError:
        return []
    try:
        engines.wait_for_server(engine, timeout)
        return leftovers(url, engine)
    except Exception:
        return []
    finally:
        engine.dispose()


def drop_leftovers(target, pid=None):
    """Drop the leftover per-run databases near ``target`` (with ``pid``:
    those of the run that process started); say which."""
    names = leftovers(target.configured_url, target.server_engine, pid)
    for name in names:
        backends.drop_database(target, name)
    return '--dropfirst: dropped %d leftover database%s of killed runs ' \
        'from %s%s' % (len(names), '' if len(names) == 1 else 's',
                       engines.masked(target.configured_url),
                       (': ' + ', '.join(names)) if names else '')


def drop_all_tables(target):
    """Drop every view and table of ``target``'s default schema, views
    first and tables in dependency order; say which."""
    views = inspect(target.engine).get_view_names()
    metadata = MetaData()
    metadata.reflect(target.engine)
    names = sorted(metadata.tables)
    with target.engine.begin() as connection:
        for view in views:
            backends.drop_view(connection, view)
    metadata.drop_all(target.engine)
    dropped = sorted(names + views)
    return '--dropfirst: dropped %d table%s from %s%s' % (
        len(dropped), '' if len(dropped) == 1 else 's', target.safe_url,
        (': ' + ', '.join(dropped)) if dropped else '')
