"""JavaScript rendering only where needed: scrapy-playwright with Debian's Chromium.

:class:`PlaywrightAddon` installs scrapy-playwright's download handler when a browser is there
(``NEWSCRAWL_PLAYWRIGHT``: ``auto`` — the default, when ``NEWSCRAWL_CHROMIUM`` exists, else one
warning that rendering is off —, ``1`` or ``0``). ``1`` without a browser is a configuration error
(:func:`browser_problem`: the commands stop in one line, exit 3, before anything starts). The
handler starts the browser only for a request with ``meta["playwright"]``: ordinary pages keep
Scrapy's own HTTP client and no browser is launched. Requests opt in when their site declares
``render = True`` (the generic spider: ``-a render=1``), and an article page goes back once through
the browser when its static HTML yields no plausible article body and carries script-built content
(:func:`looks_script_rendered`; ``newscrawl/rendered_retry`` in the stats).

The browser goes only where the crawl may go (``newscrawl.crawl.safety``): the installed handler,
``GuardedPlaywrightHandler``, checks every request a rendered page makes (the document, scripts,
images, XHR) and fetches the allowed ones through Playwright one hop at a time, checking each
redirect's target before it is requested (Chromium would follow a redirect without asking). A
redirected page keeps the URL it was requested at. Refusals are counted like the downloader's
(``newscrawl/unsafe/<reason>``). WebSockets are refused (``newscrawl/unsafe/websocket``), service
workers blocked (their requests would pass no check), audio and video not loaded (a hop-by-hop
fetch holds a whole body in memory), and WebRTC kept off UDP.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from scrapy.settings import SETTINGS_PRIORITIES, BaseSettings

from newscrawl.defaults import setting_value
from newscrawl.extract.text import without_hidden_elements
from newscrawl.crawl.safety import TargetPolicy, targets_for
from newscrawl.stats import NOT_RENDERED, UNSAFE_PREFIX, UNSAFE_WEBSOCKET

if TYPE_CHECKING:
    from playwright.async_api import Request as BrowserRequest
    from playwright.async_api import Route, WebSocketRoute
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)
HANDLER = "newscrawl.crawl.rendering.GuardedPlaywrightHandler"
BROWSER_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--force-webrtc-ip-handling-policy=disable_non_proxied_udp"]
#: schemes a page may load without the network (inline data, its own blobs, blank frames)
LOCAL_SCHEMES = ("data", "blob", "about")
#: redirects followed per browser request, as Scrapy's REDIRECT_MAX_TIMES does for its own
MAX_BROWSER_HOPS = 20
_REDIRECTS = (301, 302, 303, 307, 308)
#: a request meta key: this request already went through the browser
RENDERED = "newscrawl_rendered"
_APP_ROOT = re.compile(r"<(?:div|main|section)[^<>]+id=[\"'](?:root|app|__next|__nuxt|svelte)[\"'][^<>]*>\s*</", re.I)
#: an empty element with an id (``<div id="article"></div>``): a script may fill it
_EMPTY_WITH_ID = re.compile(r"<(div|main|section|article)\b[^<>]*?\sid=[\"']([^\"'<>]{1,100})[\"'][^<>]*>\s*</\1\s*>", re.I)
#: a string in a script that reads as text: eight words or more
_TEXT_STRING = re.compile(r"\"((?:[^\"\\\n]|\\.){40,})\"")
#: the words of text in a page's scripts from which they carry its content
SCRIPT_TEXT_WORDS = 100
_SCRIPT_OPEN = re.compile(r"<script\b[^<>]*>", re.I)
_SCRIPT_CLOSE = re.compile(r"</script\s*>", re.I)
_TAG = re.compile(r"<[^<>]*>")
_NEEDS_JS = re.compile(r"enable javascript|javascript is (?:disabled|required)|увімкніть javascript|включите javascript", re.I)


def _wanted(settings: BaseSettings) -> str:
    """``NEWSCRAWL_PLAYWRIGHT`` as ``auto``, ``off`` or ``on``."""
    wanted = setting_value("NEWSCRAWL_PLAYWRIGHT", settings).strip().lower()
    return "auto" if wanted == "auto" else "off" if wanted in ("0", "false", "off", "no") else "on"


def browser_path(settings: BaseSettings) -> Path:
    """Where the browser is expected (``NEWSCRAWL_CHROMIUM``)."""
    return Path(setting_value("NEWSCRAWL_CHROMIUM", settings))


def browser_found(settings: BaseSettings) -> bool:
    """Whether a browser that can be run is at :func:`browser_path`."""
    path = browser_path(settings)
    return path.is_file() and os.access(path, os.X_OK)


def rendering_enabled(settings: BaseSettings) -> bool:
    """Whether the browser handler is (to be) installed: asked for, and a browser there."""
    return _wanted(settings) != "off" and browser_found(settings)


def browser_problem(settings: BaseSettings) -> str | None:
    """Why a crawl that requires the browser (``NEWSCRAWL_PLAYWRIGHT=1``) cannot start, in one line
    that says how to install one; None when it does not require it or the browser is there."""
    if _wanted(settings) != "on" or browser_found(settings):
        return None
    return (f"NEWSCRAWL_PLAYWRIGHT=1 needs a browser and there is none at {browser_path(settings)}: "
            "install Debian's Chromium (apt-get install chromium), or point NEWSCRAWL_CHROMIUM at one")


class PlaywrightAddon:
    """Scrapy add-on: scrapy-playwright's handler (browser on demand) when rendering is enabled."""

    def update_settings(self, settings: BaseSettings) -> None:
        """Install the handler and the browser's launch options; without a browser, say once that
        rendering is off (``auto``) or refuse to go on (required)."""
        problem = browser_problem(settings)
        if problem:
            raise RuntimeError(problem)
        if _wanted(settings) == "auto" and not browser_found(settings):
            logger.warning("rendering is off: no browser at %s (apt-get install chromium); pages that scripts build "
                           "are dropped and counted as %s", browser_path(settings), NOT_RENDERED)
        if not rendering_enabled(settings):
            return
        handlers = settings.getdict("DOWNLOAD_HANDLERS")
        handlers.update({"http": HANDLER, "https": HANDLER})
        project = SETTINGS_PRIORITIES["project"]
        if (settings.getpriority("DOWNLOAD_HANDLERS") or 0) <= project:
            settings.set("DOWNLOAD_HANDLERS", handlers, "project")
        settings.setdefault("PLAYWRIGHT_BROWSER_TYPE", "chromium")
        settings.setdefault("PLAYWRIGHT_LAUNCH_OPTIONS", {
            "executable_path": str(browser_path(settings)),
            "headless": True,
            "args": BROWSER_ARGS,
        })
        settings.set("NEWSCRAWL_RENDERING", True, "addon")


class BrowserGuard:
    """The crawl's target policy applied to the browser's requests."""

    def __init__(self, policy: TargetPolicy, stats: StatsCollector) -> None:
        self.policy = policy
        self.stats = stats

    async def refused(self, url: str, *, redirected_from: str | None = None) -> bool:
        """Whether the browser must not request ``url`` (counted and logged when so)."""
        reason = await self.policy.refusal(url, allowed_schemes=("http", "https", *LOCAL_SCHEMES))
        if reason:
            self.stats.inc_value(UNSAFE_PREFIX + reason)
            origin = f" (redirected from {redirected_from})" if redirected_from else ""
            logger.warning("refused %s in the browser: %s%s", reason.replace("_", " "), url[:300], origin)
        return reason is not None

    async def route(self, route: Route, request: BrowserRequest, continue_checked: Any) -> None:
        """Abort a refused request or audio/video; else hand a hop-by-hop route to ``continue_checked``
        (scrapy-playwright's own route handler, which sets the Scrapy request's headers)."""
        if await self.refused(request.url):
            await route.abort("blockedbyclient")
        elif request.resource_type == "media":
            await route.abort("blockedbyclient")
        else:
            await continue_checked(HopByHopRoute(route, self), request)

    async def refuse_websocket(self, websocket: WebSocketRoute) -> None:
        """Never connect a page's WebSocket (it would pass no other check)."""
        self.stats.inc_value(UNSAFE_WEBSOCKET)
        logger.warning("refused a WebSocket in the browser: %s", websocket.url[:300])
        await websocket.close(code=1008, reason="not allowed")


class HopByHopRoute:
    """A Playwright route whose ``continue_`` fetches the request itself, one redirect at a time,
    checking each target first, and gives the page the final answer."""

    def __init__(self, route: Route, guard: BrowserGuard) -> None:
        self._route = route
        self._guard = guard

    def __getattr__(self, name: str) -> Any:
        return getattr(self._route, name)

    async def continue_(self, **overrides: Any) -> None:
        """Fetch with ``overrides`` (headers, method, post_data), following allowed redirects; a
        network error aborts the request, as the browser's own fetch would fail it."""
        from playwright.async_api import Error as PlaywrightError

        url = self._route.request.url
        method = overrides.get("method") or self._route.request.method
        post_data = overrides.get("post_data", self._route.request.post_data_buffer)
        headers = overrides.get("headers")
        for _ in range(MAX_BROWSER_HOPS + 1):
            try:
                response = await self._route.fetch(url=url, method=method, headers=headers, post_data=post_data,
                                                   max_redirects=0)
            except PlaywrightError as exc:
                logger.info("browser request failed: %s: %s", url[:300], str(exc).splitlines()[0][:200])
                await self._route.abort("failed")
                return
            location = response.headers.get("location")
            if response.status not in _REDIRECTS or not location:
                await self._route.fulfill(response=response)
                return
            url, previous = urljoin(url, location), url
            if await self._guard.refused(url, redirected_from=previous):
                await self._route.abort("blockedbyclient")
                return
            if response.status == 303 or (response.status in (301, 302) and method == "POST"):
                method, post_data = "GET", None
        logger.warning("more than %d redirects in the browser: %s", MAX_BROWSER_HOPS, self._route.request.url[:300])
        await self._route.abort("failed")


def _guarded_handler_class() -> type:
    """scrapy-playwright's handler with every browser request under the crawl's target policy.

    Built on first use: importing scrapy-playwright (and Playwright) costs half a second, which
    processes that never render (the CLI, most tests) need not pay.
    """
    from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

    class GuardedPlaywrightHandler(ScrapyPlaywrightDownloadHandler):
        """scrapy-playwright's download handler whose pages reach the network only through :class:`BrowserGuard`."""

        def __init__(self, crawler: Any) -> None:
            super().__init__(crawler)
            self.guard = BrowserGuard(targets_for(crawler), crawler.stats)

        async def _create_browser_context(self, name: str, context_kwargs: dict | None, spider: Any = None) -> Any:
            return await super()._create_browser_context(
                name, {**(context_kwargs or {}), "service_workers": "block"}, spider
            )

        async def _create_page(self, request: Any, spider: Any) -> Any:
            page = await super()._create_page(request, spider)
            await page.route_web_socket("**", self.guard.refuse_websocket)
            return page

        def _make_request_handler(self, **kwargs: Any) -> Any:
            continue_checked = super()._make_request_handler(**kwargs)

            async def guarded(route: Route, request: BrowserRequest) -> None:
                await self.guard.route(route, request, continue_checked)

            return guarded

    GuardedPlaywrightHandler.__module__ = __name__
    GuardedPlaywrightHandler.__qualname__ = "GuardedPlaywrightHandler"
    return GuardedPlaywrightHandler


def __getattr__(name: str) -> Any:
    """``GuardedPlaywrightHandler``, built on first use (see :func:`_guarded_handler_class`)."""
    if name == "GuardedPlaywrightHandler":
        handler = _guarded_handler_class()
        globals()[name] = handler
        return handler
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def looks_script_rendered(html: str) -> bool:
    """Whether a page carries content that scripts build: an empty app root (``<div id="root">``,
    ``__next``, ``__nuxt``, ``app``, ``svelte``); an empty element a script of the page names by its
    id (``<div id="article"></div>`` and ``getElementById("article")``) while its scripts carry
    more text than the page shows (``SCRIPT_TEXT_WORDS`` words or more in strings: the story as
    data, JSON-LD aside); a "please enable JavaScript" note; or scripts outweighing the text
    (under 150 words shown, over 2,000 characters of script)."""
    if _APP_ROOT.search(html) or _NEEDS_JS.search(html):
        return True
    code, data = [], []  # the scripts, and those that are not JSON-LD
    position = 0  # one forward pass: a script left open runs to the end
    while opening := _SCRIPT_OPEN.search(html, position):
        closing = _SCRIPT_CLOSE.search(html, opening.end())
        script = html[opening.end():closing.start() if closing else len(html)]
        code.append(script)
        if "ld+json" not in opening.group().lower():
            data.append(script)
        if closing is None:
            break
        position = closing.end()
    visible_words = len(_TAG.sub(" ", without_hidden_elements(html)).split())
    scripts = "\n".join(data)
    if any(re.search(rf"[\"'`]#?{re.escape(match[2])}[\"'`]", scripts) for match in _EMPTY_WITH_ID.finditer(html)):
        text_words = script_text_words(scripts)
        if text_words >= SCRIPT_TEXT_WORDS and text_words > visible_words:
            return True
    return visible_words < 150 and sum(map(len, code)) > 2_000


def script_text_words(code: str) -> int:
    """The words of text (strings of eight words or more) in a page's scripts: the story a script
    writes into the page is data in one of them (JSON, a variable)."""
    return sum(count for string in _TEXT_STRING.findall(code) if (count := len(string.split())) >= 8)
