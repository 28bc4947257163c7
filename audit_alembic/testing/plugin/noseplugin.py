"""nose2 adapter: translates nose2 events into calls on the shared core,
and owns the run's processes.

Besides the events, it reads nose-style test names, makes the copies of
``__backend__`` classes that ``--all-targets`` runs, and looks after the
processes: SIGTERM stops a run as Ctrl-C does, the databases are dropped
at exit, and the worker processes of nose2's ``mp`` plugin are stopped
and waited for when a run ends early, or end it when one dies.

Loaded by ``sqla_nose.py`` through :mod:`bootstrap`, never imported as
part of the package.
"""
import atexit
import logging
import multiprocessing
import os
import signal
import sys
import time

from nose2.events import Plugin

if __package__:
    from . import noseselect
    from . import plugin_base
else:
    import audit_alembic_noseselect as noseselect
    import audit_alembic_plugin_base as plugin_base


def fail(message, code=2):
    """Print a one-line error and exit."""
    print('%s: error: %s' % (os.path.basename(sys.argv[0]), message),
          file=sys.stderr)
    sys.exit(code)


class AuditAlembicPlugin(Plugin):
    """Database targets, logging flags and nose-style test names."""

    configSection = 'audit-alembic'
    alwaysOn = True

    def __init__(self):
        self.session.argparse.prog = os.path.basename(sys.argv[0])
        group = self.session.argparse.add_argument_group(
            plugin_base.GROUP, plugin_base.GROUP_DESCRIPTION)
        plugin_base.setup_options(group.add_argument)
        self.test_names = {}  # as nose2 takes them -> as typed
        self.begun = False
        self.collect_ignore = [
            os.path.join(noseselect.ROOT, path)
            for path in self.config.as_list('collect-ignore', [])]

    def handleArgs(self, event):
        try:
            message = plugin_base.pre_begin(event.args)
        except plugin_base.UsageError as err:
            fail(err)
        if message is not None:
            print(message)
            sys.exit(0)
        # nose2's own console handler on the root logger (logging.basicConfig)
        # would show the --log-* records a second time.
        for handler in logging.getLogger().handlers:
            handler.addFilter(plugin_base.NotShownTwice())
        names = event.args.testNames
        self.test_names = dict(zip(map(noseselect.normalize_name, names),
                                   names))
        names[:] = self.test_names

    def matchDirPath(self, event):
        if noseselect.passed_by(event.path, self.test_names,
                                self.collect_ignore):
            event.handled = True
            return False
        return None

    def loadTestsFromNames(self, event):
        # The first hook after coverage starts (in createTests).
        missing = [typed for name, typed in self.test_names.items()
                   if not noseselect.name_exists(name)]
        if missing:
            fail('no test matches %s' % ', '.join(map(repr, missing)))
        self.begin()

    def begin(self):
        """Connect to the targets tests use, once, and clear on request."""
        if self.begun:
            return
        self.begun = True
        at_exit(finish)
        try:
            plugin_base.post_begin(used=self.used_targets())
            plugin_base.drop_first()
        except plugin_base.UsageError as err:
            fail(err)
        if plugin_base.one_worker_only():
            self.use_one_worker()

    def use_one_worker(self):
        """Have nose2's mp plugin start one worker, not one per CPU."""
        for plugin in self.session.plugins:
            if hasattr(plugin, 'procs') and hasattr(plugin, '_startProcs'):
                plugin.procs = 1

    def used_targets(self):
        """How many targets tests use: the first, or all with
        --all-targets."""
        return None if plugin_base.options.all_targets else 1

    def createdTestSuite(self, event):
        if self.test_names and not event.suite.countTestCases():
            fail('no tests found in %s'
                 % ', '.join(map(repr, self.test_names.values())))
        if plugin_base.options.all_targets:
            add_target_copies(event.suite)

    def startTestRun(self, event):
        self.begin()  # in case another plugin handled loadTestsFromNames
        self.crash_watch = WorkerCrashWatch()
        logging.getLogger(MP_LOGGER).addFilter(self.crash_watch)
        if self.session.verbosity > 1:
            print(plugin_base.describe_targets(), file=sys.stderr)

    def startTest(self, event):
        # nose2 (0.16) prints a test's name again with its outcome unless
        # the result says the test started; the mp plugin replays a
        # worker's startTest here without saying so.  (Set once, the flag
        # stays set, as in a run without workers.)
        event.result.test_started = True

    def wasSuccessful(self, event):
        if getattr(self, 'crash_watch', None) and self.crash_watch.crashed:
            event.success = False

    def afterTestRun(self, event):
        # Also drops what a crashed worker of this run left behind.
        finish()

    def registerInSubprocess(self, event):
        event.pluginClasses.append(type(self))

    def startSubprocess(self, event):
        # A worker, forked from the run (its exit hooks and SIGTERM
        # handling inherited): targets of its own, named after the run's
        # process id, inherited too.
        from audit_alembic.testing import config
        for target in config.targets:
            if target.engine is not None:
                target.engine.dispose(close=False)  # the parent's connections
        try:
            plugin_base.post_begin(self.used_targets())
        except plugin_base.UsageError as err:
            fail(err)

    def stopSubprocess(self, event):
        plugin_base.finish()


def at_exit(function):
    """Run ``function`` at exit; make SIGTERM stop the run as Ctrl-C
    does (nose2 lets that through), so that it runs then too."""
    atexit.register(function)
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum, frame):
    raise KeyboardInterrupt('terminated')


def finish():
    """Stop this process's workers, then drop what the run made (the
    core's :func:`~plugin_base.finish`)."""
    stop_workers()
    plugin_base.finish()


#: Seconds the run waits for each worker it stops to end.
WORKER_STOP_TIMEOUT = 10


def stop_workers():
    """Stop the worker processes (nose2's ``mp``) still running when the
    run ends early (SIGTERM, Ctrl-C), and wait for them, so that none
    makes a database after the run drops what its workers left.  (A
    worker has none.)"""
    workers = multiprocessing.active_children()
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.join(WORKER_STOP_TIMEOUT)
        if worker.is_alive():
            worker.kill()
            worker.join()


#: The logger of nose2's multiprocess plugin.
MP_LOGGER = 'nose2.plugins.mp'
#: What it logs, over and over, once a worker process has died.
WORKER_LOST = 'Subprocess connection closed unexpectedly'


class WorkerCrashed(BaseException):
    """A worker process of a parallel run died; ends the run.

    A BaseException, as KeyboardInterrupt is, so that nose2 lets it
    through to ``sqla_nose.py`` (which prints :data:`message`, one line,
    and exits 1) after its ``afterTestRun`` hooks have run: the summary
    is printed and every per-run database dropped.
    """

    message = 'a test worker process died mid-run; the tests it was ' \
        'running did not finish and the run failed'


class WorkerCrashWatch(logging.Filter):
    """Ends a parallel run whose worker died.

    nose2's multiprocess plugin (0.16) keeps the dead worker's connection
    among those it waits on, logs :data:`WORKER_LOST` and waits again,
    forever.  This filter sees that record in the loop: it lets the other
    workers finish their tests, then raises :class:`WorkerCrashed` from
    the loop.
    """

    def __init__(self):
        super().__init__()
        self.crashed = False

    def filter(self, record):
        if record.getMessage() != WORKER_LOST:
            return True
        self.crashed = True
        if multiprocessing.active_children():
            time.sleep(0.05)  # the loop spins; let the others work
            return False
        raise WorkerCrashed(WorkerCrashed.message)


def add_target_copies(suite):
    """Add a copy of each ``__backend__`` test bound to every target but
    the first, as class ``ClassName_<target>`` of the same module (the
    test itself runs against the first)."""
    import unittest
    from audit_alembic.testing import config
    copies = []
    for test in list(_flatten(suite)):
        cls = type(test)
        for per_target in plugin_base.generate_sub_tests(
                cls, sys.modules[cls.__module__], config.targets[1:]):
            if per_target is not cls:
                copies.append(per_target(test._testMethodName))
    suite.addTests(unittest.TestSuite(copies))


def _flatten(suite):
    for test in suite:
        if hasattr(test, '__iter__'):
            yield from _flatten(test)
        else:
            yield test
