"""A headless Chromium for the tests, through Playwright's Python package.

Playwright's own browser download is never used: the tests drive the
Chromium the system has (Debian's ``chromium``), or the one
``AUDIT_ALEMBIC_CHROMIUM`` names.  Where Playwright or Chromium is
missing, the tests skip, saying which; in CI (``CI`` set, or
``AUDIT_ALEMBIC_REQUIRE_SERVERS=1``) they fail instead.
"""
import importlib.util
import os
import shutil
import unittest

from audit_alembic import paths

#: Names the Chromium to use.
CHROMIUM_VARIABLE = 'AUDIT_ALEMBIC_CHROMIUM'
#: Where screenshots go: the checkout's ignored build/ folder (CI keeps
#: it as an artifact).
SCREENSHOTS = os.path.join(paths.PACKAGE_ROOT, 'build', 'screenshots')
VIEWPORT = {'width': 1280, 'height': 900}


def chromium_path():
    """The Chromium executable to drive, or None."""
    named = os.environ.get(CHROMIUM_VARIABLE)
    if named:
        return named if os.path.isfile(named) else None
    for name in ('chromium', 'chromium-browser'):
        found = shutil.which(name)
        if found:
            return found
    return '/usr/bin/chromium' if os.path.isfile('/usr/bin/chromium') \
        else None


def in_ci():
    """Whether a missing browser must fail the tests, not skip them."""
    return bool(os.environ.get('CI')) or \
        os.environ.get('AUDIT_ALEMBIC_REQUIRE_SERVERS') == '1'


def missing():
    """Why the browser tests cannot run (one line), or None."""
    if importlib.util.find_spec('playwright') is None:
        return 'needs the playwright package (pip install playwright)'
    if chromium_path() is None:
        return ('needs Chromium (apt-get install chromium, or %s=PATH)'
                % CHROMIUM_VARIABLE)
    return None


class BrowserTestCase(unittest.TestCase):
    """Runs one headless Chromium for the class; :meth:`open_page` gives
    a new page that records console errors, page errors and every
    request."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        reason = missing()
        if reason is not None:
            if in_ci():
                raise AssertionError('browser tests: %s (and CI must run '
                                     'them)' % reason)
            raise unittest.SkipTest(reason)
        from playwright.sync_api import sync_playwright
        cls.playwright = sync_playwright().start()
        try:
            cls.browser = cls.playwright.chromium.launch(
                executable_path=chromium_path(), args=['--no-sandbox'])
        except BaseException:
            cls.playwright.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.browser.close()
        cls.playwright.stop()
        super().tearDownClass()

    def open_page(self, path):
        """Open file ``path`` in a new page; returns it.  ``self.errors``
        holds the console's errors and the page's uncaught exceptions,
        ``self.requests`` the URL of every request it made."""
        context = self.browser.new_context(viewport=VIEWPORT,
                                           java_script_enabled=True)
        self.addCleanup(context.close)
        page = context.new_page()
        self.errors, self.requests = [], []
        page.on('console', lambda message: message.type == 'error' and
                self.errors.append(message.text))
        page.on('pageerror', lambda error: self.errors.append(str(error)))
        page.on('request', lambda request: self.requests.append(
            request.url))
        page.goto('file://' + os.path.abspath(path))
        page.wait_for_load_state('load')
        return page

    def screenshot(self, page, name, full_page=True):
        """Save a screenshot of ``page`` (the whole page, or what the
        viewport shows) as ``name`` under :data:`SCREENSHOTS`; returns
        its path."""
        os.makedirs(SCREENSHOTS, exist_ok=True)
        path = os.path.join(SCREENSHOTS, name)
        page.screenshot(path=path, full_page=full_page)
        return path
