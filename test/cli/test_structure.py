"""The command line's modules, read from their source: the commands
share modules, never import each other (the demo runs the others)."""
import unittest

from audit_alembic.cli import COMMANDS
from test.audit.test_layout import imports_of
from test.audit.test_layout import package_modules

CLI = 'audit_alembic.cli'


class CommandImportsTest(unittest.TestCase):
    def test_commands_do_not_import_each_other(self):
        modules = package_modules()
        commands = {'%s.%s' % (CLI, name) for name in COMMANDS}
        for name in commands - {CLI + '.demo'}:
            self.assertFalse(
                imports_of(name, modules[name], modules) & commands, name)

    def test_shared_modules_import_no_command(self):
        modules = package_modules()
        commands = {'%s.%s' % (CLI, name) for name in COMMANDS}
        for name, path in modules.items():
            if name.startswith(CLI + '.') and name not in commands:
                self.assertFalse(imports_of(name, path, modules) & commands,
                                 name)
