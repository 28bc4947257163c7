"""--log-info/--log-debug: records on the console, and still captured."""
import io
import logging
import unittest

from audit_alembic.testing.plugin import plugin_base


class LogFlagsTest(unittest.TestCase):
    def setUp(self):
        self.name = 'audit_alembic.test_logging.%s' % self._testMethodName
        self.logger = logging.getLogger(self.name)
        self.addCleanup(self.reset)

    def reset(self):
        self.logger.handlers.clear()
        self.logger.setLevel(logging.NOTSET)

    def test_records_reach_the_console_and_the_runners_capture(self):
        console = io.StringIO()
        plugin_base.configure_logging(None, [self.name], stream=console)
        # The runner's capture (pytest's caplog, nose2's --log-capture)
        # listens on the root logger, as assertLogs() does here.
        with self.assertLogs(level=logging.DEBUG) as captured:
            self.logger.debug('one step recorded')
        self.assertEqual(console.getvalue(),
                         'DEBUG %s one step recorded\n' % self.name)
        self.assertEqual(captured.output,
                         ['DEBUG:%s:one step recorded' % self.name])

    def test_a_logger_named_twice_prints_once(self):
        console = io.StringIO()
        plugin_base.configure_logging([self.name], [self.name],
                                      stream=console)
        with self.assertLogs(level=logging.INFO):  # keeps root's handlers out
            self.logger.info('shown')
        self.assertEqual(console.getvalue(), 'INFO %s shown\n' % self.name)
