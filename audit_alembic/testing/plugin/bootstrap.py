"""Load the runner plugin modules by file path.

Importing them as ``audit_alembic.testing.plugin.*`` would import
:mod:`audit_alembic` before coverage starts, so the bootstrap script and
``conftest.py`` load this file with :func:`runpy.run_path` and call
:func:`load_adapter`.
"""
import importlib.util
import os
import sys

PLUGIN_DIR = os.path.dirname(os.path.abspath(__file__))
#: The names the shared core, its :mod:`targets`,
#: :mod:`audit_alembic.paths`, :mod:`audit_alembic.compat` and
#: :mod:`audit_alembic.masking` are registered under in ``sys.modules``.
CORE_MODULE = 'audit_alembic_plugin_base'
TARGETS_MODULE = 'audit_alembic_plugin_targets'
PATHS_MODULE = 'audit_alembic_paths'
COMPAT_MODULE = 'audit_alembic_compat'
MASKING_MODULE = 'audit_alembic_masking'
#: Modules an adapter imports besides the core, each registered as
#: ``audit_alembic_<name>``.
ADAPTER_HELPERS = {'nose': ['noseselect']}


def _load(module_name, file_name):
    if module_name in sys.modules:
        return sys.modules[module_name]
    path = os.path.normpath(os.path.join(PLUGIN_DIR, file_name))
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def use_sqlite3_fallback():
    """Where Python has no ``sqlite3``, stand pysqlite3 in for it, here and
    in child processes; exit with a one-line error if that is missing
    too."""
    compat = _load(COMPAT_MODULE,
                   os.path.join(os.pardir, os.pardir, 'compat.py'))
    if not compat.ensure_sqlite3():
        sys.exit("%s: error: this Python has no sqlite3 module; install "
                 "a replacement with: pip install '%s'"
                 % (os.path.basename(sys.argv[0]), compat.PYSQLITE3_PACKAGE))
    extra = compat.sqlite3_path_entries()
    if extra:
        os.environ['PYTHONPATH'] = os.pathsep.join(
            extra + [p for p in [os.environ.get('PYTHONPATH')] if p])


#: The runners the ``test`` extra brings, by adapter.
RUNNER_MODULES = {'nose': 'nose2', 'pytest': 'pytest'}
TEST_EXTRA = "pip install 'audit-alembic[test]'"


def require_runner(runner):
    """Exit with one line naming the ``test`` extra if the runner the
    adapter for ``runner`` plugs into is not installed."""
    module = RUNNER_MODULES[runner]
    try:
        importlib.import_module(module)
    except ImportError as err:
        if getattr(err, 'name', None) != module:
            raise
        sys.exit('%s: error: the test suite needs %s, which is not '
                 'installed; install the test extra: %s'
                 % (os.path.basename(sys.argv[0]), module, TEST_EXTRA))


def load_adapter(runner):
    """Load the core, then the adapter for ``runner`` ('nose' or 'pytest')."""
    require_runner(runner)
    use_sqlite3_fallback()
    _load(PATHS_MODULE, os.path.join(os.pardir, os.pardir, 'paths.py'))
    _load(MASKING_MODULE, os.path.join(os.pardir, os.pardir, 'masking.py'))
    _load(TARGETS_MODULE, 'targets.py')
    _load(CORE_MODULE, 'plugin_base.py')
    for helper in ADAPTER_HELPERS.get(runner, ()):
        _load('audit_alembic_%s' % helper, '%s.py' % helper)
    return _load('audit_alembic_%splugin' % runner, '%splugin.py' % runner)
