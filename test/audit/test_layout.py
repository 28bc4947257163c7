"""The package's imports, read from its source: no circle, and arrows
pointing one way (command line and runner use the library, never the
reverse).  Every module belongs to a group, so that none escapes the
checks."""
import ast
import os
import unittest

from audit_alembic import paths

PACKAGE = os.path.join(paths.PACKAGE_ROOT, 'audit_alembic')
#: Modules the library is made of: they import none of the others.  A new
#: module directly under audit_alembic/ goes here, or under cli/ or
#: testing/ (test_every_module_is_in_a_group).
LIBRARY = {'audit_alembic.auditor', 'audit_alembic.values',
           'audit_alembic.exc', 'audit_alembic.compat',
           'audit_alembic.paths', 'audit_alembic.masking',
           'audit_alembic.record', 'audit_alembic.chain',
           'audit_alembic.facts', 'audit_alembic.running',
           'audit_alembic.committed',
           'audit_alembic.stored', 'audit_alembic.failure',
           'audit_alembic.ddl', 'audit_alembic.dialects',
           'audit_alembic.engines', 'audit_alembic.errors',
           'audit_alembic.logs', 'audit_alembic.offline',
           'audit_alembic.schema', 'audit_alembic.waits',
           'audit_alembic.snapshot', 'audit_alembic.drift',
           'audit_alembic.hashing', 'audit_alembic.schemadiff',
           'audit_alembic.snapstore',
           'audit_alembic.digest', 'audit_alembic.events',
           'audit_alembic.writer', 'audit_alembic.locks',
           'audit_alembic.catalog', 'audit_alembic.transactions',
           'audit_alembic.readers'}
#: The command line: these and everything under them.
COMMAND_LINE = ('audit_alembic.cli', 'audit_alembic.__main__')
#: The test runner: this and everything under it.
RUNNER = ('audit_alembic.testing',)
#: Python files shipped in the package that are none of its modules: the
#: env.py template (user code, which imports the package like any user)
#: and the stand-in ``sqlite3`` put on ``sys.path`` where Python has none.
NOT_MODULES = ('audit_alembic.templates', 'audit_alembic._sqlite3_fallback')


def _within(name, prefixes):
    return any(name == prefix or name.startswith(prefix + '.')
               for prefix in prefixes)


def group_of(name):
    """'library', 'cli', 'testing' or 'not a module' for a module of the
    package; None for one that is in no group."""
    if name == 'audit_alembic' or _within(name, LIBRARY):
        return 'library'
    if _within(name, COMMAND_LINE):
        return 'cli'
    if _within(name, RUNNER):
        return 'testing'
    if _within(name, NOT_MODULES):
        return 'not a module'
    return None


def package_modules():
    """Dotted name -> path of every module of the package."""
    modules = {}
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith('.py'):
                path = os.path.join(folder, name)
                dotted = os.path.relpath(path, paths.PACKAGE_ROOT)[:-3]
                dotted = dotted.replace(os.sep, '.')
                if dotted.endswith('.__init__'):
                    dotted = dotted[:-len('.__init__')]
                modules[dotted] = path
    return modules


def imports_of(name, path, modules):
    """The package modules that module ``name`` imports (statically)."""
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read(), path)
    found = set()
    is_package = path.endswith('__init__.py')
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split('.')
                if not is_package:
                    base = base[:-1]
                base = base[:len(base) - node.level + 1]
                source = '.'.join(base + ([node.module] if node.module
                                          else []))
            else:
                source = node.module or ''
            submodules = ['%s.%s' % (source, alias.name)
                          for alias in node.names]
            targets = [t for t in submodules if t in modules] or [source]
        else:
            continue
        found.update(t for t in targets if t in modules and t != name)
    return found


def circles(graph):
    """The strongly connected components of more than one module."""
    index, low, stack, on_stack, result = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return result


class ImportGraphTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        modules = package_modules()
        cls.graph = {name: imports_of(name, path, modules)
                     for name, path in modules.items()}

    def test_no_circle(self):
        self.assertEqual(circles(self.graph), [])

    def test_every_module_is_in_a_group(self):
        self.assertEqual(
            sorted(name for name in self.graph if group_of(name) is None),
            [], 'add each to LIBRARY, or move it under cli/ or testing/')
        # And each name of LIBRARY is a module.
        self.assertLessEqual(LIBRARY, set(self.graph))

    def test_the_library_imports_only_the_library(self):
        library = {name for name in self.graph
                   if group_of(name) == 'library'}
        for name in library:
            self.assertLessEqual(self.graph[name], library, name)

    def test_only_the_runner_imports_the_runner(self):
        for name, targets in self.graph.items():
            if not name.startswith('audit_alembic.testing'):
                self.assertFalse(
                    {t for t in targets
                     if t.startswith('audit_alembic.testing')}, name)

    def test_only_commands_import_the_command_line(self):
        for name, targets in self.graph.items():
            if not name.startswith(('audit_alembic.cli',
                                    'audit_alembic.__main__')):
                self.assertFalse(
                    {t for t in targets if t.startswith('audit_alembic.cli')},
                    name)

    def test_a_module_in_no_group_is_found(self):
        self.assertIsNone(group_of('audit_alembic.database'))
        self.assertIsNone(group_of('audit_alembic.clinic'))
        self.assertEqual([group_of(name) for name in (
            'audit_alembic', 'audit_alembic.auditor', 'audit_alembic.cli.demo',
            'audit_alembic.testing.plugin.plugin_base',
            'audit_alembic.templates.env')],
            ['library', 'library', 'cli', 'testing', 'not a module'])

    def test_circles_are_found(self):
        self.assertEqual(circles({'a': {'b'}, 'b': {'c'}, 'c': {'a'},
                                  'd': {'a'}}), [['a', 'b', 'c']])


class WhereThingsLiveTest(unittest.TestCase):
    """README's "Where things live" names every module of the library and
    of the command line."""

    def section(self, start, end):
        with open(os.path.join(paths.PACKAGE_ROOT, 'README.rst'),
                  encoding='utf-8') as f:
            text = f.read()
        return text[text.index(start):text.index(end, text.index(start))]

    def test_every_module_is_named(self):
        library = self.section('The library, ``audit_alembic/``:',
                               'The command line, ``audit_alembic/cli/``:')
        command_line = self.section(
            'The command line, ``audit_alembic/cli/``:',
            'The test runner lives in')
        for folder, text in ((PACKAGE, library),
                             (os.path.join(PACKAGE, 'cli'), command_line)):
            for name in sorted(os.listdir(folder)):
                if name.endswith('.py'):
                    with self.subTest(module=name):
                        self.assertIn('``%s``' % name, text)
