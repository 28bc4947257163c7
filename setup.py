"""Packaging lives in setup.cfg; this file adds ``python setup.py test``."""
import os
import shlex
import subprocess
import sys

from setuptools import Command
from setuptools import setup

HERE = os.path.dirname(os.path.abspath(__file__))


class Test(Command):
    """Run the test suite through ./sqla_nose.py."""

    description = 'run the test suite with ./sqla_nose.py'
    user_options = [
        ('test-args=', 'a',
         'arguments for sqla_nose.py, e.g. "-v --db mysql"'),
    ]

    def initialize_options(self):
        self.test_args = ''

    def finalize_options(self):
        self.test_args = shlex.split(self.test_args or '')

    def run(self):
        runner = os.path.join(HERE, 'sqla_nose.py')
        code = subprocess.call([sys.executable, runner] + self.test_args)
        if code:
            sys.exit(code)


setup(cmdclass={'test': Test})
