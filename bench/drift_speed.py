#!/usr/bin/env python
"""What drift detection costs: ``snapshot.take()`` + ``snapshot_hash()``
and ``schemadiff.diff()`` on a schema of N tables, beside one Alembic
``upgrade head``.

    python bench/drift_speed.py [--dburi URL] [--tables 200] [--rounds 10]
                                [--revisions 10]

Builds N tables (6 columns, a primary key, an index, a unique constraint
and a foreign key to the previous table each) in a scratch place it
creates and removes itself: a schema ``drift_bench_<hex>`` on PostgreSQL
(made the connections' search path), a database named like the test
suite's per-run ones (``test_aa_<pid>_<hex>``, which scott may create,
and which the suite drops if this process dies) on MySQL/MariaDB, a
temporary file on SQLite.  Each round then times, in this process:

* ``take()`` + ``snapshot_hash()`` of the whole schema, on a new
  connection;
* ``diff()`` of two snapshots of it (equal: the full comparison);
* ``alembic upgrade head`` of a scratch project of REVISIONS revisions
  (each creating a small table) with the shipped env.py and its
  ``Auditor.create(..., details=True)``, as the tests run it (in-process,
  on a new connection); a ``downgrade base`` (not timed) follows.  Where
  that Auditor watches the schema (snapshots, drift), the same upgrade
  is also timed with the watch switched off, in the same rounds.

Prints the median and the spread (min-max) of each.  Goal: under 0.5 s
for a snapshot of 200 tables on PostgreSQL.  Exits 2 with one line if the
database cannot be reached.
"""
import argparse
import contextlib
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import Column  # noqa: E402
from sqlalchemy import DateTime  # noqa: E402
from sqlalchemy import ForeignKey  # noqa: E402
from sqlalchemy import Index  # noqa: E402
from sqlalchemy import Integer  # noqa: E402
from sqlalchemy import MetaData  # noqa: E402
from sqlalchemy import Numeric  # noqa: E402
from sqlalchemy import String  # noqa: E402
from sqlalchemy import Table  # noqa: E402
from sqlalchemy import UniqueConstraint  # noqa: E402
from sqlalchemy import make_url  # noqa: E402
from sqlalchemy import text  # noqa: E402

from audit_alembic import Auditor  # noqa: E402
from audit_alembic import dialects  # noqa: E402
from audit_alembic import engines  # noqa: E402
from audit_alembic import schemadiff  # noqa: E402
from audit_alembic import snapshot  # noqa: E402
from audit_alembic.exc import CommandError  # noqa: E402
from audit_alembic.masking import masked  # noqa: E402
from audit_alembic.testing.fixtures import Rev  # noqa: E402
from audit_alembic.testing.fixtures import ScratchEnvironment  # noqa: E402

DEFAULT_URL = 'postgresql+psycopg://scott:tiger@127.0.0.1:5432/test'


def schema_metadata(count):
    """``count`` tables; each refers to the one before (the first to
    itself)."""
    metadata = MetaData()
    for i in range(count):
        name = 'bench_%04d' % i
        Table(name, metadata,
              Column('id', Integer, primary_key=True),
              Column('parent_id', Integer, ForeignKey(
                  'bench_%04d.id' % max(i - 1, 0), ondelete='CASCADE')),
              Column('code', String(20), nullable=False),
              Column('name', String(100)),
              Column('amount', Numeric(12, 2), server_default='0'),
              Column('created_at', DateTime),
              UniqueConstraint('code', name='uq_%s_code' % name),
              Index('ix_%s_name' % name, 'name'))
    return metadata


def chain(n):
    ids = ['r%02d' % i for i in range(1, n + 1)]
    return [Rev(rev, ids[i - 1] if i else None) for i, rev in enumerate(ids)]


@contextlib.contextmanager
def scratch_place(url):
    """Create the scratch schema or database; yield the URL that works in
    it; remove it (and only it) after."""
    backend = url.get_backend_name()
    if backend == 'sqlite':
        directory = tempfile.mkdtemp(prefix='drift_speed_')
        try:
            yield url.set(database=os.path.join(directory, 'bench.db'))
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        return
    if backend == 'postgresql':
        name = 'drift_bench_%s' % secrets.token_hex(4)
        create, drop = 'CREATE SCHEMA %s' % name, 'DROP SCHEMA %s CASCADE'
        inside = url.update_query_dict(
            {'options': '-csearch_path=%s' % name})
    elif backend in ('mysql', 'mariadb'):
        name = 'test_aa_%d_%s' % (os.getpid(), secrets.token_hex(4))
        create, drop = 'CREATE DATABASE %s' % name, 'DROP DATABASE %s'
        inside = url.set(database=name)
    else:
        sys.exit('drift_speed: no scratch place for %s databases' % backend)
    engine = engines.create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(create))
    try:
        yield inside
    finally:
        with engine.begin() as connection:
            connection.execute(text(drop % name))
        engine.dispose()


def spread(times):
    return 'median %.4fs (min %.4fs, max %.4fs)' % (
        statistics.median(times), min(times), max(times))


def auditors():
    """The shipped env.py's Auditor (``details=True``: it records a
    snapshot after each online run and checks for drift before the next),
    and the same without the schema watch, where the Auditor has one."""
    watched = Auditor.create('bench', details=True)
    plain = Auditor.create('bench', details=True)
    if getattr(plain, 'schema_watch', None) is None:
        return {'upgrade': watched}
    plain.schema_watch = None
    return {'upgrade, schema watched': watched,
            'upgrade, no schema watch': plain}


def measure(url, args):
    engine = engines.create_engine(url)
    metadata = schema_metadata(args.tables)
    metadata.create_all(engine)
    # They share the version and history tables: each goes up and back.
    envs = {name: ScratchEnvironment(engine, chain(args.revisions),
                                     auditor=auditor)
            for name, auditor in auditors().items()}
    times = {name: [] for name in ['take() + snapshot_hash()',
                                   'diff() of two snapshots'] + list(envs)}
    try:
        for env in envs.values():  # warm up imports and caches
            env.run('upgrade', 'head')
            env.run('downgrade', 'base')
        previous = None
        for _ in range(args.rounds):
            started = time.perf_counter()
            with engine.connect() as connection:
                document = snapshot.take(connection)
                snapshot.snapshot_hash(document)
            times['take() + snapshot_hash()'].append(
                time.perf_counter() - started)
            if previous is not None:
                started = time.perf_counter()
                changes = schemadiff.diff(previous, document)
                times['diff() of two snapshots'].append(
                    time.perf_counter() - started)
                assert changes == [], changes
            previous = document
            for name, env in envs.items():
                started = time.perf_counter()
                env.run('upgrade', 'head')
                times[name].append(time.perf_counter() - started)
                env.run('downgrade', 'base')
        others = sorted(set(document['schemas']['']['tables']) -
                        set(metadata.tables))
        size = len(snapshot.canonical_json(document).encode('utf-8'))
    finally:
        for env in envs.values():
            env.close()
        metadata.drop_all(engine)
        engine.dispose()
    print('%s: %d tables in the snapshot (%d bench + %s), %d bytes of '
          'JSON, %d rounds; upgrades of %d revisions' % (
              masked(url), args.tables + len(others), args.tables,
              ', '.join(others), size, args.rounds, args.revisions))
    for name, measured in times.items():
        print('%-26s %s' % (name + ':', spread(measured or [0.0])))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--dburi', default=DEFAULT_URL,
                        help='SQLAlchemy URL (default: %(default)s)')
    parser.add_argument('--tables', type=int, default=200)
    parser.add_argument('--rounds', type=int, default=10)
    parser.add_argument('--revisions', type=int, default=10)
    args = parser.parse_args(argv)
    url = make_url(args.dburi)
    try:
        engine = engines.create_engine(url)
        if dialects.has_a_server(url):  # a SQLite file is not touched
            engines.wait_for_server(engine, timeout=5)
        engine.dispose()
    except CommandError as err:
        print('drift_speed: %s' % err, file=sys.stderr)
        sys.exit(2)
    with scratch_place(url) as inside:
        measure(inside, args)


if __name__ == '__main__':
    main()
