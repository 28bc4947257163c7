"""nose2 adapter: translates nose2 events into calls on the shared core.

Loaded by ``sqla_nose.py`` through :mod:`bootstrap`, never imported as
part of the package.
"""
import importlib
import importlib.util
import logging
import multiprocessing
import os
import sys
import time

from nose2.events import Plugin

if __package__:
    from . import plugin_base
else:
    import audit_alembic_plugin_base as plugin_base


def fail(message, code=2):
    """Print a one-line error and exit."""
    print('%s: error: %s' % (os.path.basename(sys.argv[0]), message),
          file=sys.stderr)
    sys.exit(code)


def normalize_name(name, test_dir=os.path.join(plugin_base.ROOT, 'test')):
    """A test name as nose users type it, as the dotted name nose2 takes.

    ``mod:Class.method`` becomes ``mod.Class.method``.  A directory or
    file path (``audit/``, ``audit``, ``audit/test_api.py``) is looked up
    relative to the current directory, then to ``test/``, then to the
    checkout root, and becomes its module name.
    """
    looks_dotted = '.' in name or ':' in name
    if '/' not in name and os.sep not in name and not name.endswith('.py') \
            and (looks_dotted or not os.path.isdir(
                os.path.join(test_dir, name))):
        return name.replace(':', '.')
    for base in (os.getcwd(), test_dir, plugin_base.ROOT):
        path = os.path.abspath(os.path.join(base, name))
        relative = os.path.relpath(path, plugin_base.ROOT)
        if os.path.exists(path) and not relative.startswith(os.pardir):
            return os.path.splitext(relative)[0].replace(os.sep, '.')
    return name


def name_exists(name):
    """Whether a dotted name refers to a module or an object in one.

    Imports the module part of a dotted name; import errors other than a
    missing module count as existing, for nose2 to report in full.
    """
    parts = name.split('.')
    for end in range(len(parts), 0, -1):
        module_name = '.'.join(parts[:end])
        try:
            found = importlib.util.find_spec(module_name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            continue
        try:
            obj = importlib.import_module(module_name)
        except Exception:
            return True
        for attribute in parts[end:]:
            if not hasattr(obj, attribute):
                return False
            obj = getattr(obj, attribute)
        return True
    return False


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

    def handleArgs(self, event):
        try:
            message = plugin_base.pre_begin(event.args)
        except plugin_base.UsageError as err:
            fail(err)
        if message is not None:
            print(message)
            sys.exit(0)
        names = event.args.testNames
        self.test_names = dict(zip(map(normalize_name, names), names))
        names[:] = self.test_names

    def loadTestsFromNames(self, event):
        # The first hook after coverage starts (in createTests).
        missing = [typed for name, typed in self.test_names.items()
                   if not name_exists(name)]
        if missing:
            fail('no test matches %s' % ', '.join(map(repr, missing)))
        self.begin()

    def begin(self):
        """Connect to the targets tests use, once, and clear on request."""
        if self.begun:
            return
        self.begun = True
        try:
            plugin_base.post_begin(used=self.used_targets())
            plugin_base.drop_first()
        except plugin_base.UsageError as err:
            fail(err)

    def used_targets(self):
        """How many targets tests use: the first, or all with
        --all-targets."""
        return None if plugin_base._options.all_targets else 1

    def createdTestSuite(self, event):
        if self.test_names and not event.suite.countTestCases():
            fail('no tests found in %s'
                 % ', '.join(map(repr, self.test_names.values())))
        if plugin_base._options.all_targets:
            add_target_copies(event.suite)

    def startTestRun(self, event):
        self.begin()  # in case another plugin handled loadTestsFromNames
        self.crash_watch = WorkerCrashWatch()
        logging.getLogger(MP_LOGGER).addFilter(self.crash_watch)
        if self.session.verbosity > 1:
            print(plugin_base.describe_targets(), file=sys.stderr)

    def wasSuccessful(self, event):
        if getattr(self, 'crash_watch', None) and self.crash_watch.crashed:
            event.success = False

    def afterTestRun(self, event):
        # Also drops what a crashed worker of this run left behind.
        plugin_base.finish()

    def registerInSubprocess(self, event):
        event.pluginClasses.append(type(self))

    def startSubprocess(self, event):
        try:
            plugin_base.start_worker(self.used_targets())
        except plugin_base.UsageError as err:
            fail(err)

    def stopSubprocess(self, event):
        plugin_base.finish()


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
    the first, as class ``ClassName_<target>`` of the same module."""
    import unittest
    from audit_alembic.testing import config
    copies = []
    for test in list(_flatten(suite)):
        cls = type(test)
        if not getattr(cls, '__backend__', False) or \
                '__target__' in vars(cls):
            continue
        module = sys.modules[cls.__module__]
        for target in config.targets[1:]:
            name = '%s_%s' % (cls.__name__, target.label)
            per_target = getattr(module, name, None)
            if per_target is None:
                per_target = type(name, (cls,), {
                    '__target__': target.label, '__module__': cls.__module__,
                    '__qualname__': name})
                setattr(module, name, per_target)
            copies.append(per_target(test._testMethodName))
    suite.addTests(unittest.TestSuite(copies))


def _flatten(suite):
    for test in suite:
        if hasattr(test, '__iter__'):
            yield from _flatten(test)
        else:
            yield test
