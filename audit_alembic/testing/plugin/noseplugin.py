"""nose2 adapter: translates nose2 events into calls on the shared core.

Loaded by ``sqla_nose.py`` through :mod:`bootstrap`, never imported as
part of the package.
"""
import importlib
import importlib.util
import os
import sys

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
        """Connect to the targets, once."""
        if self.begun:
            return
        self.begun = True
        try:
            plugin_base.post_begin()
        except plugin_base.UsageError as err:
            fail(err)

    def createdTestSuite(self, event):
        if self.test_names and not event.suite.countTestCases():
            fail('no tests found in %s'
                 % ', '.join(map(repr, self.test_names.values())))

    def startTestRun(self, event):
        self.begin()  # in case another plugin handled loadTestsFromNames
        if self.session.verbosity > 1:
            print(plugin_base.describe_targets(), file=sys.stderr)
