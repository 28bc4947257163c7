"""Tests of the runner: ./sqla_nose.py, the pytest plugin, setup.py."""
