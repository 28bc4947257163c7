"""Tests that open the command line's pages in a real browser (Chromium,
driven by Playwright), headless; see :mod:`.support`."""
