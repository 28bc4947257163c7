#!/usr/bin/env python
"""What recording costs: upgrade head + downgrade base of a chain of N
revisions, bare (no Auditor), with an ``on_version_apply`` hook that
does nothing (what Alembic itself spends on calling a hook), ``plain``
(``Auditor.create``) and ``details`` (``details=True``); with
``--events``, also details with every row emitted as an event (see
:mod:`audit_alembic.events`): a handler on ``audit_alembic.events`` at
INFO writing JSON lines to ``os.devnull``; with ``--against-0.2.0``,
also Audit-Alembic 0.2.0 on the same chain and database.

    python bench/audit_overhead.py [--url URL] [-n 150] [--rounds 9]
                                   [--columns] [--transaction-per-migration]
                                   [--null-pool] [--events]
                                   [--against-0.2.0]
                                   [--python-0.2.0 PYTHON]

The figure that matters is the CPU time spent inside the hook per step:
``time.process_time()`` around the ``on_version_apply`` callable
(``Auditor.listen``), summed over a run and divided by its steps.  The
whole run's CPU time and wall time are printed too.  The ways alternate
in one process, each round starting with another, so that all see the
same machine; medians and spreads (lowest to highest) are over the
rounds, and the ratios are taken round by round.

0.2.0 does not run on Python 3.11+ (it calls ``inspect.getargspec``):
it runs in a virtualenv of its own, built on first use in
``~/.cache/audit-alembic-bench/0.2.0`` with a Python 3.10 (or give
``--python-0.2.0``, the interpreter of a virtualenv holding
``audit-alembic==0.2.0``, ``SQLAlchemy<2``, ``alembic<1.13`` and the
driver).  Each round runs it as a child process (this file, with
``--child-0.2.0``) that builds the same chain, warms up with one
upgrade + downgrade, times a second one and prints its figures as JSON.
Its history table is ``alembic_version_history_020``.

``--columns``: each revision creates a table with a few columns and two
indexes (in place of an empty table).  ``--transaction-per-migration``:
the ``transaction_per_migration=True`` configure option.  ``--null-pool``:
engines with ``NullPool``, as Alembic's ``env.py`` makes them (each
connection opened anew: a step that opened one would pay for it).  The
details' schema snapshot, taken inside the hook of a run's last step
where the steps commit one by one (else after the hook), is shown apart
(``of which snapshot``): a per-run cost.  The default target is a SQLite
file in a temporary directory.
"""
import argparse
import contextlib
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import timeit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TABLE_020 = 'alembic_version_history_020'


# -- the chain, the same for both sides ---------------------------------

def scripts(n, columns=False):
    """``(id, down, upgrade, downgrade)`` of N revisions in a line, each
    creating a table (with ``columns``, a few columns and two indexes)."""
    ids = ['r%04d' % i for i in range(1, n + 1)]
    result = []
    for i, rev in enumerate(ids):
        table = 'scratch_%s' % rev
        if columns:
            upgrade = '\n    '.join([
                'op.create_table(%r, sa.Column("id", sa.Integer, '
                'primary_key=True), sa.Column("name", sa.String(50)), '
                'sa.Column("amount", sa.Integer), '
                'sa.Column("created", sa.DateTime))' % table,
                'op.create_index("ix_%s_name", %r, ["name"])' % (rev, table),
                'op.create_index("ix_%s_created", %r, ["created"])' % (
                    rev, table)])
        else:
            upgrade = 'op.create_table(%r, sa.Column("id", sa.Integer, ' \
                'primary_key=True))' % table
        result.append((rev, ids[i - 1] if i else None, upgrade,
                       'op.drop_table(%r)' % table))
    return result


class HookTimer:
    """Wraps an ``on_version_apply`` callable, summing the CPU time spent
    inside it and counting the steps; with ``within``, another
    HookTimer, only the calls made inside that one's."""

    def __init__(self, hook, within=None):
        self.hook = hook
        self.within = within
        self.cpu = 0.0
        self.steps = 0
        self.active = False

    def __call__(self, *args, **kw):
        if self.within is not None and not self.within.active:
            return self.hook(*args, **kw)
        started = time.process_time()
        self.active = True
        try:
            return self.hook(*args, **kw)
        finally:
            self.active = False
            self.cpu += time.process_time() - started
            self.steps += 1

    def take(self):
        """CPU seconds per step since the last call."""
        per_step = self.cpu / self.steps if self.steps else 0.0
        self.cpu, self.steps = 0.0, 0
        return per_step


def up_and_down(run):
    """Wall and CPU seconds of ``run('upgrade', 'head')`` then
    ``run('downgrade', 'base')``."""
    started, cpu = time.perf_counter(), time.process_time()
    run('upgrade', 'head')
    run('downgrade', 'base')
    return time.perf_counter() - started, time.process_time() - cpu


# -- 0.2.0, in a child process ------------------------------------------

ENV_PY_020 = '''\
from alembic import context

config = context.config
context.configure(connection=config.attributes["connection"],
                  on_version_apply=config.attributes["hook"],
                  **config.attributes["options"])
with context.begin_transaction():
    context.run_migrations()
'''

SCRIPT = '''\
"""revision {id}"""
from alembic import op
import sqlalchemy as sa

revision = {id!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade():
    {upgrade}


def downgrade():
    {downgrade}
'''


def child_020(args):
    """Under 0.2.0's interpreter: time the chain once, print JSON."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    from audit_alembic import Auditor

    directory = tempfile.mkdtemp(prefix='audit_overhead_020_')
    try:
        versions = os.path.join(directory, 'scripts', 'versions')
        os.makedirs(versions)
        with open(os.path.join(directory, 'scripts', 'env.py'), 'w') as f:
            f.write(ENV_PY_020)
        for rev, down, upgrade, downgrade in scripts(args.revisions,
                                                     args.columns):
            with open(os.path.join(versions, '%s.py' % rev), 'w') as f:
                f.write(SCRIPT.format(id=rev, down=down, upgrade=upgrade,
                                      downgrade=downgrade))
        config = Config()
        config.set_main_option('script_location',
                               os.path.join(directory, 'scripts'))
        auditor = Auditor.create('bench', table_name=TABLE_020)
        hook = HookTimer(auditor.listen)
        config.attributes['hook'] = hook
        config.attributes['options'] = {
            'transaction_per_migration': args.transaction_per_migration}
        engine = create_engine(args.url, future=True, **pool_options(args))

        def run(name, revision):
            with engine.connect() as connection:
                config.attributes['connection'] = connection
                getattr(command, name)(config, revision)
                connection.commit()

        up_and_down(run)  # warm up imports and caches
        hook.take()
        wall, cpu = up_and_down(run)
        steps = hook.steps
        print(json.dumps({'hook': hook.take(), 'steps': steps,
                          'wall': wall, 'cpu': cpu}))
        engine.dispose()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def pool_options(args):
    """``create_engine`` options: with ``--null-pool``, ``NullPool``, as
    Alembic's ``env.py`` (each connection opened anew)."""
    if not args.null_pool:
        return {}
    from sqlalchemy.pool import NullPool
    return {'poolclass': NullPool}


def url_020(url):
    """``url`` for SQLAlchemy 1.4: psycopg (3) becomes psycopg2."""
    return url.replace('postgresql+psycopg:', 'postgresql+psycopg2:', 1)


def python_020(url):
    """The interpreter of a virtualenv holding 0.2.0, built on first use
    with a Python 3.10."""
    venv = os.path.join(os.path.expanduser('~'), '.cache',
                        'audit-alembic-bench', '0.2.0')
    python = os.path.join(venv, 'bin', 'python')
    if os.path.exists(python):
        return python
    base = shutil.which('python3.10')
    if base is None or subprocess.run(
            [base, '-c', ''], capture_output=True).returncode:
        # Not on PATH, or pyenv's shim of a version not selected.
        pyenv = subprocess.run(['pyenv', 'root'], capture_output=True,
                               text=True).stdout.strip()
        found = sorted(d for d in os.listdir(
            os.path.join(pyenv, 'versions')) if d.startswith('3.10'))
        base = os.path.join(pyenv, 'versions', found[-1], 'bin', 'python')
    print('building %s with %s' % (venv, base), flush=True)
    subprocess.run([base, '-m', 'venv', venv], check=True)
    subprocess.run([python, '-m', 'pip', 'install', '-q',
                    'audit-alembic==0.2.0', 'SQLAlchemy<2', 'alembic<1.13',
                    'psycopg2-binary', 'pymysql'], check=True)
    return python


def run_020(python, url, args):
    """One round of 0.2.0 in a child process: its figures."""
    command = [python, os.path.abspath(__file__), '--child-0.2.0',
               '--url', url_020(url), '-n', str(args.revisions)]
    if args.columns:
        command.append('--columns')
    if args.transaction_per_migration:
        command.append('--transaction-per-migration')
    if args.null_pool:
        command.append('--null-pool')
    # Not this checkout: 0.2.0's audit_alembic.
    environment = dict(os.environ)
    environment.pop('PYTHONPATH', None)
    done = subprocess.run(command, capture_output=True, text=True,
                          cwd=tempfile.gettempdir(), env=environment)
    if done.returncode:
        sys.exit('0.2.0 failed:\n%s' % done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- this checkout -------------------------------------------------------

@contextlib.contextmanager
def events_on():
    """The events emitted, as JSON lines, to ``os.devnull``."""
    from audit_alembic import events
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
    from audit_alembic import events
    from audit_alembic.committed import RowEvents
    row_events = RowEvents('bench')
    rows = [{}]
    assert not events.logger.isEnabledFor(logging.INFO)
    number = 1000000
    return min(timeit.repeat(lambda: row_events.written(None, rows),
                             number=number, repeat=5)) / number


def do_nothing(**kw):
    """An ``on_version_apply`` hook that records nothing."""


def spread(values, scale=1.0, form='%.0f'):
    """``median [lowest-highest]`` of ``values`` times ``scale``."""
    return '%s [%s-%s]' % tuple(form % (v * scale) for v in (
        statistics.median(values), min(values), max(values)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--url', help='SQLAlchemy URL of an empty database '
                        '(default: a temporary SQLite file)')
    parser.add_argument('-n', '--revisions', type=int, default=150)
    parser.add_argument('--rounds', type=int, default=9)
    parser.add_argument('--columns', action='store_true',
                        help='revisions with a few columns and indexes')
    parser.add_argument('--transaction-per-migration', action='store_true')
    parser.add_argument('--null-pool', action='store_true',
                        help="engines with NullPool, as Alembic's env.py")
    parser.add_argument('--events', action='store_true',
                        help='also time details with the events on')
    parser.add_argument('--against-0.2.0', dest='against', action='store_true',
                        help='also time Audit-Alembic 0.2.0')
    parser.add_argument('--python-0.2.0', dest='python_020',
                        help="interpreter of 0.2.0's virtualenv")
    parser.add_argument('--child-0.2.0', dest='child', action='store_true',
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child_020(args)

    sys.path.insert(0, ROOT)
    from sqlalchemy import Table
    from sqlalchemy import MetaData
    from sqlalchemy import create_engine

    from audit_alembic import Auditor
    from audit_alembic.testing.fixtures import Rev
    from audit_alembic.testing.fixtures import ScratchEnvironment

    directory = tempfile.mkdtemp(prefix='audit_overhead_')
    url = args.url or 'sqlite:///%s' % os.path.join(directory, 'bench.db')
    engine = create_engine(url, **pool_options(args))
    revisions = [Rev(rev, down, upgrade=upgrade, downgrade=downgrade)
                 for rev, down, upgrade, downgrade in scripts(
                     args.revisions, args.columns)]
    options = {}
    if args.transaction_per_migration:
        options['transaction_per_migration'] = True
    auditors = {'plain': Auditor.create('bench'),
                'details': Auditor.create('bench', details=True)}
    if args.events:
        auditors['events'] = Auditor.create('bench', details=True)
    hooks = {'bare': None, 'hook': HookTimer(do_nothing)}
    snapshots = {}
    for name, auditor in auditors.items():
        hooks[name] = auditor.listen = HookTimer(auditor.listen)
        if auditor.schema_watch is not None:
            # The run's schema snapshot, taken in the hook of its last
            # step where the steps commit one by one.
            watch = auditor.schema_watch
            snapshots[name] = watch.stamp_rows = HookTimer(
                watch.stamp_rows, within=hooks[name])

    def scratch(name):
        kw = dict(options)
        if name == 'hook':
            kw['on_version_apply'] = hooks['hook']
        return ScratchEnvironment(engine, revisions,
                                  auditor=auditors.get(name, False), **kw)

    environments = {name: scratch(name) for name in hooks}
    names = list(environments)
    python = None
    if args.against:
        python = args.python_020 or python_020(url)
        names.insert(0, '0.2.0')
    figures = {name: {'hook': [], 'snapshot': [], 'cpu': [], 'wall': []}
               for name in names}
    try:
        up_and_down(environments['details'].run)  # warm up
        for hook in list(hooks.values()) + list(snapshots.values()):
            if hook is not None:
                hook.take()
        for round_ in range(args.rounds):
            # Each round starts with another of them.
            shift = round_ % len(names)
            for name in names[shift:] + names[:shift]:
                if name == '0.2.0':
                    got = run_020(python, url, args)
                    figures[name]['hook'].append(got['hook'])
                    figures[name]['cpu'].append(got['cpu'])
                    figures[name]['wall'].append(got['wall'])
                    continue
                with events_on() if name == 'events' else \
                        contextlib.nullcontext():
                    wall, cpu = up_and_down(environments[name].run)
                figures[name]['wall'].append(wall)
                figures[name]['cpu'].append(cpu)
                hook = hooks[name]
                steps = hook.steps if hook is not None else 0
                figures[name]['hook'].append(
                    hook.take() if hook is not None else 0.0)
                if name in snapshots:
                    figures[name]['snapshot'].append(
                        snapshots[name].cpu / steps)
                    snapshots[name].take()
            print('round %d: %s' % (round_ + 1, ', '.join(
                '%s %.0f us' % (name, figures[name]['hook'][-1] * 1e6)
                for name in names)), flush=True)
        rows = len(environments['details'].history())
    finally:
        for env in environments.values():
            env.close()
        if args.against:
            with engine.begin() as connection:
                Table(TABLE_020, MetaData()).drop(connection,
                                                  checkfirst=True)
        engine.dispose()
        shutil.rmtree(directory, ignore_errors=True)

    print('%s, %d revisions%s%s, %d rounds (%d audit rows written by '
          'details)' % (
              engine.url.render_as_string(hide_password=True),
              args.revisions, ' with columns and indexes'
              if args.columns else '', ', transaction per migration'
              if args.transaction_per_migration else '', args.rounds, rows))
    print('median [lowest-highest] over the rounds')
    print('%-8s %-22s %-22s %-18s %-18s' % (
        'way', 'in-hook CPU us/step', 'of which snapshot',
        'run CPU ms', 'run wall ms'))
    for name in names:
        got = figures[name]
        print('%-8s %-22s %-22s %-18s %-18s' % (
            name, spread(got['hook'], 1e6),
            spread(got['snapshot'], 1e6) if got['snapshot'] else '',
            spread(got['cpu'], 1e3), spread(got['wall'], 1e3)))
    # Each round times all of them back to back, so that their ratios
    # cancel most of the machine's slow drifts.
    pairs = [('details', 'plain')]
    if args.against:
        pairs = [('plain', '0.2.0'), ('details', '0.2.0')] + pairs
    if args.events:
        pairs.append(('events', 'details'))
    # The details' in-hook CPU less the run's schema snapshot (a per-run
    # cost, in the hook of the run's last step).
    figures['details-snapshot'] = {'hook': [
        hook - snapshot for hook, snapshot in zip(
            figures['details']['hook'], figures['details']['snapshot'])]}
    pairs.append(('details-snapshot', '0.2.0' if args.against
                  else 'plain'))
    for over, under in pairs:
        for kind in ('hook', 'cpu', 'wall'):
            if kind not in figures[over]:
                continue
            ratios = [a / b for a, b in zip(figures[over][kind],
                                            figures[under][kind])]
            print('ratio %s/%s, %s: %s' % (
                over, under, {'hook': 'in-hook CPU per step',
                              'cpu': 'run CPU', 'wall': 'run wall'}[kind],
                spread(ratios, form='%.2f')))
    if args.events:
        check = off_check_seconds()
        steps = 2 * args.revisions
        print('events off: %.0f ns per written row (the isEnabledFor '
              'check), %.3f ms for the %d rows of a round, against a '
              'median %.3f s for the round of details' % (
                  check * 1e9, check * steps * 1e3, steps,
                  statistics.median(figures['details']['wall'])))


if __name__ == '__main__':
    main()
