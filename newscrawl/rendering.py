"""JavaScript rendering only where needed: scrapy-playwright with Debian's Chromium.

:class:`PlaywrightAddon` installs scrapy-playwright's download handler when a browser is there
(``NEWSCRAWL_PLAYWRIGHT``: ``auto`` — the default, when ``NEWSCRAWL_CHROMIUM`` exists —, ``1`` or
``0``). The handler starts the browser only for a request with ``meta["playwright"]``: ordinary
pages keep Scrapy's own HTTP client and no browser is launched. Requests opt in when their site
declares ``render = True``, and :func:`looks_script_rendered` sends an article page back once
through the browser when its static HTML has no article but looks built by scripts
(``newscrawl/rendered_retry`` in the stats).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from scrapy.settings import SETTINGS_PRIORITIES, BaseSettings

logger = logging.getLogger(__name__)
HANDLER = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
BROWSER_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: a request meta key: this request already went through the browser
RENDERED = "newscrawl_rendered"
_APP_ROOT = re.compile(r"<(?:div|main|section)[^>]+id=[\"'](?:root|app|__next|__nuxt|svelte)[\"'][^>]*>\s*</", re.I)
_SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script>", re.S | re.I)
_TAGS = re.compile(r"<(script|style|noscript)\b.*?</\1>|<[^>]+>", re.S | re.I)
_NEEDS_JS = re.compile(r"enable javascript|javascript is (?:disabled|required)|увімкніть javascript|включите javascript", re.I)


def rendering_enabled(settings: BaseSettings) -> bool:
    """Whether the browser handler is (to be) installed."""
    wanted = str(settings.get("NEWSCRAWL_PLAYWRIGHT", "auto")).lower()
    if wanted in ("0", "false", "off", "no"):
        return False
    return wanted != "auto" or Path(settings.get("NEWSCRAWL_CHROMIUM", "/usr/bin/chromium")).exists()


class PlaywrightAddon:
    """Scrapy add-on: scrapy-playwright's handler (browser on demand) when rendering is enabled."""

    def update_settings(self, settings: BaseSettings) -> None:
        """Install the handler and the browser's launch options."""
        if not rendering_enabled(settings):
            return
        handlers = settings.getdict("DOWNLOAD_HANDLERS")
        handlers.update({"http": HANDLER, "https": HANDLER})
        project = SETTINGS_PRIORITIES["project"]
        if (settings.getpriority("DOWNLOAD_HANDLERS") or 0) <= project:
            settings.set("DOWNLOAD_HANDLERS", handlers, "project")
        settings.setdefault("PLAYWRIGHT_BROWSER_TYPE", "chromium")
        settings.setdefault("PLAYWRIGHT_LAUNCH_OPTIONS", {
            "executable_path": settings.get("NEWSCRAWL_CHROMIUM", "/usr/bin/chromium"),
            "headless": True,
            "args": BROWSER_ARGS,
        })
        settings.set("NEWSCRAWL_RENDERING", True, "addon")


def looks_script_rendered(html: str) -> bool:
    """Whether a page without an article looks like one that scripts fill in: an empty app root
    (``<div id="root"></div>``), a "please enable JavaScript" note, or scripts outweighing text."""
    if _APP_ROOT.search(html) or _NEEDS_JS.search(html):
        return True
    script_chars = sum(len(body) for body in _SCRIPT.findall(html))
    visible_words = len(_TAGS.sub(" ", html).split())
    return visible_words < 150 and script_chars > 2_000
