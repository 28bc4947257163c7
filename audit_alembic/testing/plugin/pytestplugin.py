"""pytest adapter: translates pytest hooks into calls on the shared core,
and owns the run's processes.

``test/conftest.py`` loads it through :mod:`bootstrap` and re-exports its
hooks.  A test class with ``__backend__ = True`` is collected once per
target, as ``ClassName_<target>``; other tests run against the first.
SIGTERM stops a run as Ctrl-C does; under pytest-xdist the process that
started the run passes it on to its workers.
"""
import atexit
import os
import shutil
import signal
import tempfile

import pytest

if __package__:
    from . import plugin_base
else:
    import audit_alembic_plugin_base as plugin_base

__all__ = ['pytest_addoption', 'pytest_cmdline_main', 'pytest_sessionstart',
           'pytest_collection_modifyitems', 'pytest_sessionfinish',
           'pytest_report_header', 'pytest_pycollect_makeitem']


XDIST_MISSING = "-n needs pytest-xdist, which is not installed: " \
    "pip install pytest-xdist"


def pytest_addoption(parser, pluginmanager):
    group = parser.getgroup(plugin_base.GROUP, plugin_base.GROUP_DESCRIPTION)
    plugin_base.setup_options(group.addoption)
    if not pluginmanager.has_plugin('xdist') and _asks_for_workers(
            pluginmanager.get_plugin('pytestconfig')):
        # pytest would refuse -n with its usage message: say it in one
        # line, before the command line is parsed.
        raise pytest.UsageError(XDIST_MISSING)


def _asks_for_workers(config):
    """Whether pytest-xdist's -n/--numprocesses is on the command line."""
    args = config.invocation_params.args if config is not None else ()
    for arg in args:
        if arg == '--':
            break
        if arg == '--numprocesses' or arg.startswith('--numprocesses=') \
                or (arg.startswith('-n') and not arg.startswith('--')):
            return True
    return False


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config):
    try:
        message = plugin_base.pre_begin(config.option)
    except plugin_base.UsageError as err:
        raise pytest.UsageError(str(err)) from None
    if message is not None:
        print(message)
        return 0
    return None


def _is_worker(config):
    """A pytest-xdist worker."""
    return hasattr(config, 'workerinput')


def _is_controller(config):
    """The pytest-xdist process that hands tests to workers."""
    return config.pluginmanager.has_plugin('dsession')


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session):
    if _is_worker(session.config):
        # Name the worker's database after the run, so that the
        # controller drops it even if the worker dies.
        from audit_alembic.testing import provision
        provision.set_run_pid(os.getppid())
        _register_worker(os.getppid())
    atexit.register(plugin_base.finish)
    if _is_controller(session.config):
        signal.signal(signal.SIGTERM, _terminate_workers)
    elif signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        plugin_base.post_begin()
        if _is_controller(session.config):
            plugin_base.drop_first()  # it collects nothing
    except plugin_base.UsageError as err:
        raise pytest.UsageError(str(err)) from None
    if _is_controller(session.config) and plugin_base.one_worker_only():
        _use_one_worker(session.config)


def _use_one_worker(config):
    """Have pytest-xdist start one worker (its session starts after
    this one and reads the list of workers then)."""
    config.option.tx = config.option.tx[:1]
    config.option.numprocesses = 1


def _interrupt(signum, frame):
    """SIGTERM: stop as Ctrl-C does (pytest lets that through)."""
    raise KeyboardInterrupt('terminated')


def _workers_folder(run_pid):
    """Where the workers of the run ``run_pid`` started leave their
    process ids, for the controller to pass SIGTERM on."""
    return os.path.join(tempfile.gettempdir(),
                        'audit_alembic_workers_%d' % run_pid)


def _register_worker(run_pid):
    folder = _workers_folder(run_pid)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, str(os.getpid()))
    open(path, 'w').close()

    def unregister():
        try:
            os.remove(path)
            os.rmdir(folder)  # the last worker out
        except OSError:
            pass
    atexit.register(unregister)


def _terminate_workers(signum, frame):
    """SIGTERM in the controller: pass it on to the workers, which stop
    their test and drop their databases, then stop as Ctrl-C does.
    (pytest-xdist would otherwise wait 10 seconds for a busy worker.)"""
    folder = _workers_folder(os.getpid())
    try:
        pids = [int(name) for name in os.listdir(folder) if name.isdigit()]
    except OSError:
        pids = []
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    raise KeyboardInterrupt('terminated')


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    """Honour --dropfirst once the test paths are known to be good (pytest
    calls this only if collection found every path)."""
    if _is_worker(config):
        return
    try:
        plugin_base.drop_first()
    except plugin_base.UsageError as err:
        raise pytest.UsageError(str(err)) from None


def pytest_sessionfinish(session):
    plugin_base.finish()
    if _is_controller(session.config):
        # What a crashed worker could not remove.
        shutil.rmtree(_workers_folder(os.getpid()), ignore_errors=True)


def pytest_report_header(config):
    return plugin_base.describe_targets()


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector, name, obj):
    """Collect a ``__backend__`` class once per target."""
    if not plugin_base.is_backend_class(obj):
        return None
    from audit_alembic.testing import config
    return [collector.ihook.pytest_pycollect_makeitem(
        collector=collector, name=per_target.__name__, obj=per_target)
        for per_target in plugin_base.generate_sub_tests(
            obj, collector.obj, config.targets)]
