"""The versions the package declares are those CI tests as minimums."""
import os
import re
import unittest
from importlib import metadata

from audit_alembic import paths

CONSTRAINTS = os.path.join(paths.PACKAGE_ROOT, 'constraints', 'minimums.txt')


def pinned():
    """Project name (lower case) -> version pinned in minimums.txt."""
    with open(CONSTRAINTS) as f:
        return {name.lower(): version for name, version in
                re.findall(r'^([\w.-]+)==(\S+)', f.read(), re.M)}


def declared_minimums():
    """Project name (lower case) -> the >= bound the package declares."""
    bounds = {}
    for requirement in metadata.requires('Audit-Alembic') or ():
        if ';' in requirement:  # an extra's requirement
            continue
        match = re.match(r'([\w.-]+)\s*\(?>=\s*([\w.]+)', requirement)
        if match:
            bounds[match.group(1).lower()] = match.group(2)
    return bounds


class DeclaredMinimumsTest(unittest.TestCase):
    def test_constraints_pin_exactly_the_declared_minimums(self):
        declared = declared_minimums()
        self.assertEqual(set(declared), {'alembic', 'sqlalchemy'})
        self.assertEqual(pinned(), declared)
