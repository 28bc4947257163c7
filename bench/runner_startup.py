#!/usr/bin/env python
"""What ./sqla_nose.py adds to nose2 itself, on one trivial test.

    python bench/runner_startup.py [--rounds 10]

Alternates ``./sqla_nose.py TEST`` and plain ``nose2`` on the same test
(same start and top-level directories), and prints the median wall time
of each and the difference.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEST = 'test.runner.sample.test_sample.SampleTest.test_fails_on_request'


def timed(command):
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--rounds', type=int, default=10)
    args = parser.parse_args(argv)
    commands = {
        'sqla_nose.py': [sys.executable, os.path.join(ROOT, 'sqla_nose.py'),
                         TEST],
        'nose2': [sys.executable, '-m', 'nose2', '-t', ROOT,
                  '-s', os.path.join(ROOT, 'test'), TEST],
    }
    times = {name: [] for name in commands}
    for command in commands.values():
        timed(command)  # warm the file cache
    for round_ in range(args.rounds):
        names = sorted(commands, reverse=bool(round_ % 2))
        for name in names:
            times[name].append(timed(commands[name]))
    ours = statistics.median(times['sqla_nose.py'])
    bare = statistics.median(times['nose2'])
    print('median of %d runs: ./sqla_nose.py %.3fs, nose2 %.3fs'
          % (args.rounds, ours, bare))
    print('added by the bootstrap and plugin: %+.3fs' % (ours - bare))


if __name__ == '__main__':
    main()
