#!/usr/bin/env python
"""What recording costs: upgrade + downgrade of N revisions, bare (no
Auditor), with an ``on_version_apply`` hook that does nothing (what
Alembic itself spends on calling a hook), audited (``Auditor.create``)
and audited with details (``details=True``); with ``--events``, also
audited with details and every row emitted as an event (see
:mod:`audit_alembic.events`): a handler on ``audit_alembic.events`` at
INFO writing JSON lines to ``os.devnull``.

    python bench/audit_overhead.py [--url URL] [-n 200] [--rounds 15]
                                   [--events]

The plain ``details`` runs have the events off (the logger not enabled
for INFO, as by default): the code path then only asks
``logger.isEnabledFor(INFO)`` once per INSERT and per run, which
``--events`` also times on its own (``timeit``) to set against a step.

Builds one scratch Alembic project with N revisions, each creating a
table, and times ``upgrade head`` followed by ``downgrade base`` in the
four ways, alternating them in one process so that all see the same
machine.  Prints the median time of each, wall and CPU (this process's:
without the waits for the disk or the server), and the medians of the
rounds' ratios.
The default target is a SQLite file in a temporary directory.
"""
import argparse
import contextlib
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
import timeit

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import create_engine  # noqa: E402

from audit_alembic import Auditor  # noqa: E402
from audit_alembic import events  # noqa: E402
from audit_alembic.testing.fixtures import Rev  # noqa: E402
from audit_alembic.testing.fixtures import ScratchEnvironment  # noqa: E402


def chain(n):
    """N revisions in a line: r0001 <- r0002 <- ..."""
    ids = ['r%04d' % i for i in range(1, n + 1)]
    return [Rev(rev, ids[i - 1] if i else None) for i, rev in enumerate(ids)]


def do_nothing(**kw):
    """An ``on_version_apply`` hook that records nothing."""


def timed(env):
    """Seconds to upgrade ``env`` to head and back to base, wall and CPU
    (the environments share the database and its version table, so each
    goes up and down before the next starts)."""
    started, cpu = time.perf_counter(), time.process_time()
    env.run('upgrade', 'head')
    env.run('downgrade', 'base')
    return time.perf_counter() - started, time.process_time() - cpu


@contextlib.contextmanager
def events_on():
    """The events emitted, as JSON lines, to ``os.devnull``."""
    logger = logging.getLogger(events.EVENTS)
    with open(os.devnull, 'w') as sink:
        handler = logging.StreamHandler(sink)
        handler.setFormatter(events.JsonFormatter())
        level, propagate = logger.level, logger.propagate
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
        try:
            yield
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)
            logger.propagate = propagate


def off_check_seconds():
    """Seconds the events' code path takes per written row while the
    events are off: the check :meth:`.RowEvents.written` makes."""
    row_events = events.RowEvents('bench')
    rows = [{}]
    assert not events.logger.isEnabledFor(logging.INFO)
    number = 1000000
    return min(timeit.repeat(lambda: row_events.written(None, rows),
                             number=number, repeat=5)) / number


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--url', help='SQLAlchemy URL of an empty database '
                        '(default: a temporary SQLite file)')
    parser.add_argument('-n', '--revisions', type=int, default=200)
    parser.add_argument('--rounds', type=int, default=15)
    parser.add_argument('--events', action='store_true',
                        help='also time details with the events on')
    args = parser.parse_args(argv)

    directory = tempfile.mkdtemp(prefix='audit_overhead_')
    url = args.url or 'sqlite:///%s' % os.path.join(directory, 'bench.db')
    engine = create_engine(url)
    revisions = chain(args.revisions)
    environments = {
        'bare': ScratchEnvironment(engine, revisions, auditor=False),
        'hook': ScratchEnvironment(engine, revisions, auditor=False,
                                   on_version_apply=do_nothing),
        'audited': ScratchEnvironment(engine, revisions,
                                      auditor=Auditor.create('bench')),
        'details': ScratchEnvironment(
            engine, revisions,
            auditor=Auditor.create('bench', details=True)),
    }
    if args.events:
        environments['events'] = ScratchEnvironment(
            engine, revisions,
            auditor=Auditor.create('bench', details=True))
    times = {name: [] for name in environments}
    cpu_times = {name: [] for name in environments}
    try:
        timed(environments['details'])  # warm up imports and caches
        order = list(environments.items())
        for round_ in range(args.rounds):
            # Each round starts with another of them.
            shift = round_ % len(order)
            for name, env in order[shift:] + order[:shift]:
                with events_on() if name == 'events' else \
                        contextlib.nullcontext():
                    wall, cpu = timed(env)
                times[name].append(wall)
                cpu_times[name].append(cpu)
            print('round %d: %s' % (round_ + 1, ', '.join(
                '%s %.3fs' % (name, times[name][-1]) for name in times)),
                flush=True)
        rows = len(environments['details'].history())
    finally:
        for env in environments.values():
            env.close()
        engine.dispose()
        shutil.rmtree(directory, ignore_errors=True)

    print('%s, %d revisions, %d rounds (%d audit rows written)' % (
        engine.url.render_as_string(hide_password=True), args.revisions,
        args.rounds, rows))
    print('median upgrade+downgrade: %s' % ', '.join(
        '%s %.3fs' % (name, statistics.median(times[name]))
        for name in times))
    print('median CPU time of this process: %s' % ', '.join(
        '%s %.3fs' % (name, statistics.median(cpu_times[name]))
        for name in cpu_times))
    # Each round times all of them back to back, so their ratios cancel
    # most of the machine's slow drifts (disk flushes, other processes).
    # The CPU time leaves out the waits for the disk (SQLite's fsyncs)
    # and for the server, which vary the most.
    pairs = [('hook', 'bare'), ('audited', 'bare'), ('audited', 'hook'),
             ('details', 'audited'), ('details', 'bare')]
    if args.events:
        pairs.append(('events', 'details'))
    for over, under in pairs:
        for kind, measured in (('wall', times), ('CPU', cpu_times)):
            ratios = [a / b for a, b in zip(measured[over],
                                            measured[under])]
            print('ratio %s/%s, %s: median %.3f (rounds: %.3f to %.3f)' % (
                over, under, kind, statistics.median(ratios), min(ratios),
                max(ratios)))

    if args.events:
        check = off_check_seconds()
        steps = 2 * args.revisions
        print('events off: %.0f ns per written row (the isEnabledFor '
              'check), %.3f ms for the %d rows of a round, against a '
              'median %.3f s for the round of details' % (
                  check * 1e9, check * steps * 1e3, steps,
                  statistics.median(times['details'])))


if __name__ == '__main__':
    main()
