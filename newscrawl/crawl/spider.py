"""The crawling behaviour every site spider inherits: feeds, sitemaps, listings, archives, articles.

A site spider holds the :class:`~newscrawl.extract.site.Site` its parser reads (editions: language →
base URL and feeds; article URL pattern; where it has them, listing and daily archive URL templates)
and is made by :func:`newscrawl.sites.site_spider`. Arguments:

- ``-a editions=uk,en``: crawl only these editions (default: all);
- ``-a since=2023-02-01 -a until=2023-02-28``: backfill those days (``until`` defaults to
  ``since``) from the daily archive pages when the site has them, else from its sitemaps (dated
  child sitemaps and dated pages only), then stop; without ``since`` the spider takes the latest
  news from the feeds, the first ``NEWSCRAWL_LISTING_PAGES`` listing pages and the pages of the
  last ``NEWSCRAWL_RECENT_DAYS`` days in the sitemaps robots.txt names (``NEWSCRAWL_SITEMAPS``).

Article pages are parsed off the reactor, in ``NEWSCRAWL_PARSE_WORKERS`` worker processes (default:
the machine's cores; 0: in the crawler's process), opened with the spider and closed with it (see
:mod:`newscrawl.crawl.parsepool`); feeds, listings and sitemaps are read here.

Every page is read within bounds, so no site can stall the crawl or fill its memory:

- listings, home pages and feeds are parsed up to ``NEWSCRAWL_PARSE_MAX_BYTES`` (as article pages
  are) and at most ``NEWSCRAWL_MAX_LINKS_PER_PAGE`` links (``<a href>``, feed entries) are read from
  one; a page with more is counted as ``newscrawl/cut/links``;
- a sitemap file is read as a stream, as its requests are taken, up to the protocol's 50,000 entries
  (``newscrawl/cut/sitemap_urls``); a gzipped one is decompressed as it is read, up to
  ``DOWNLOAD_MAXSIZE`` (``newscrawl/cut/decompression``);
- what the parser cut from an article page or its fields is counted as ``newscrawl/cut/<what>``
  (``html``, ``jsonld``, ``title``, ``body``…; see ``newscrawl.extract.items``).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from urllib.parse import urljoin, urlsplit

import scrapy
from lxml import etree
from parsel import Selector
from scrapy import signals
from scrapy.http import Response, TextResponse
from scrapy.utils.response import get_base_url

from newscrawl.crawl.failures import FailedPages
from newscrawl.defaults import setting_value
from newscrawl.extract.dates import parse_date
from newscrawl.extract.items import FILL_FIELDS
from newscrawl.crawl.integrity import BoundedGunzip, response_limit
from newscrawl.crawl.parsepool import Page, Parsed, ParsePool, ParserRef, parse_page
from newscrawl.extract.parser import FeedHint, ParserProxy, bounded_html, cut_utf8
from newscrawl.crawl.rendering import RENDERED, browser_found, browser_path, looks_script_rendered, rendering_enabled
from newscrawl.crawl.sitemaps import (
    MAX_URLS,
    SitemapStream,
    Window,
    child_in_window,
    open_sitemap,
    page_in_window,
    period_in_url,
    sitemaps_in_robots,
)
from newscrawl.extract.urls import absolute_url
from newscrawl.stats import (
    ARTICLES_PARSED,
    ARTICLE_RESPONSES,
    BACKFILL_DAYS,
    BACKFILL_DAYS_DONE,
    CUT_DECOMPRESSION,
    CUT_LINKS,
    CUT_PREFIX,
    CUT_SITEMAP_URLS,
    FEEDS_FETCHED,
    FEED_ENTRIES,
    FEED_ENTRIES_SKIPPED,
    FILL_PREFIX,
    LAYER_PREFIX,
    LISTINGS_FETCHED,
    LISTING_LINKS,
    NOT_ARTICLE,
    NOT_FEED,
    NOT_HTML,
    NOT_RENDERED,
    PARSER_COUNT_PREFIX,
    PARSE_ERRORS,
    RENDERED_RETRY,
    SITEMAPS_CAPPED,
    SITEMAPS_FETCHED,
    SITEMAPS_IN_ROBOTS,
    SITEMAPS_OUTSIDE_WINDOW,
    SITEMAP_ENTRIES,
    SITEMAP_ENTRIES_OUTSIDE_WINDOW,
    SITEMAP_ENTRIES_SKIPPED,
    SITEMAP_UNREADABLE,
)

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings
    from typing_extensions import Self

    from newscrawl.extract.site import Site

#: request meta of feeds and sitemaps: conditional requests, a 304 reaches the callback
CONDITIONAL = {"conditional": True, "handle_httpstatus_list": [304]}
#: request meta of a revisit of a stored article (newscrawl.crawl.revisit): its id and when it was first seen
REVISIT = "revisit"
T = TypeVar("T")


class SpiderArgumentError(ValueError):
    """A spider argument (``-a``) is invalid."""


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise SpiderArgumentError(f"-a {name}={value!r}: expected a day as YYYY-MM-DD") from exc


class NewsSpider(scrapy.Spider):
    """Base spider: discovery from feeds, listings and daily archives; parsing by the site parser."""

    #: the site crawled: editions, article URL pattern, where its listings and daily archives are
    site: Site
    parser: ClassVar[type[ParserProxy]]
    #: the worker processes that parse article pages, while the spider is open (None: parse here)
    parse_pool: ParsePool | None = None

    def __init__(
        self,
        *args: Any,
        editions: str | None = None,
        since: str | None = None,
        until: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        wanted = [e.strip() for e in editions.split(",") if e.strip()] if editions else list(self.site.editions)
        unknown = sorted(set(wanted) - set(self.site.editions))
        if unknown:
            raise SpiderArgumentError(
                f"-a editions: unknown {', '.join(unknown)}; {self.name} has {', '.join(self.site.editions)}"
            )
        self.selected = [self.site.editions[lang] for lang in wanted]
        self.since = _day(since, "since") if since else None
        self.until = _day(until, "until") if until else self.since
        if until and not since:
            raise SpiderArgumentError("-a until needs -a since")
        if self.since and self.until and self.until < self.since:
            raise SpiderArgumentError(f"-a until={self.until} is before since={self.since}")
        self.allowed_domains = [edition.host for edition in self.site.editions.values()]
        self._sitemaps_followed = 0
        #: per day of a backfill from daily archives, the editions whose archive is still being read
        self._archives_open: dict[date, int] = {}
        #: article pages go through the browser (the site's ``render``; the generic spider's ``-a render=1``)
        self.render_pages = self.site.render

    def check_settings(self, settings: BaseSettings) -> None:
        """Raise :class:`SpiderArgumentError` when the arguments ask for what ``settings`` cannot
        give: ``-a render=1`` without the browser."""
        if self.render_pages and not self.site.render and not rendering_enabled(settings):
            why = "NEWSCRAWL_PLAYWRIGHT=0 turns it off" if browser_found(settings) else \
                f"there is none at {browser_path(settings)}: install Debian's Chromium (apt-get install chromium)"
            raise SpiderArgumentError(f"-a render=1 needs the browser, and {why}")

    @classmethod
    def argument_problem(cls, settings: BaseSettings, **arguments: Any) -> str | None:
        """What is wrong with the spider's ``-a`` arguments under ``settings``, if anything (the
        commands ask before a crawl starts: one line and exit 3, not a traceback)."""
        try:
            cls(**arguments).check_settings(settings)
        except SpiderArgumentError as exc:
            return str(exc)
        return None

    # -- discovery --------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        """Backfill the window when ``since`` is given, else the latest news."""
        for request in self.first_requests():
            yield request

    def first_requests(self) -> Iterator[scrapy.Request]:
        """Backfill: archive days, else sitemaps. Latest: feeds, listing pages and sitemaps."""
        if self.since and self.until:
            if self.site.archive_path:
                yield from self.archive_requests(self.since, self.until)
            else:
                yield from self.sitemap_requests(Window(self.since, self.until), backfill=True)
            return
        for edition in self.selected:
            for feed in edition.feeds:
                yield self.feed_request(feed)
            if self.site.listing_path:
                pages = setting_value("NEWSCRAWL_LISTING_PAGES", self.settings)
                for page in range(1, pages + 1):
                    url = urljoin(edition.base_url, self.site.listing_path.format(page=page))
                    yield scrapy.Request(url, self.parse_listing, cb_kwargs={"page": None})
        if setting_value("NEWSCRAWL_SITEMAPS", self.settings):
            today = datetime.now(timezone.utc).date()
            recent = Window(today - timedelta(days=setting_value("NEWSCRAWL_RECENT_DAYS", self.settings)), today)
            yield from self.sitemap_requests(recent, backfill=False)

    def archive_requests(self, since: date, until: date) -> Iterator[scrapy.Request]:
        """The first page of each day's archive in every selected edition. A day is counted in
        ``newscrawl/backfill/days_done`` (of ``newscrawl/backfill/days``) once every edition's
        archive of it has been read to its last page, or failed."""
        days = (until - since).days + 1
        self.crawler.stats.set_value(BACKFILL_DAYS, days)
        self._archives_open = {since + timedelta(days=i): len(self.selected) for i in range(days)}
        for day in self._archives_open:
            for edition in self.selected:
                url = urljoin(edition.base_url, self.site.archive_path.format(day=day))
                yield scrapy.Request(url, self.parse_listing, cb_kwargs={"page": 1, "day": day},
                                     errback=self.archive_failed)

    def archive_failed(self, failure: Any) -> None:
        """An archive page that could not be read ends that edition's archive of its day."""
        self._archive_read(failure.request.cb_kwargs.get("day"))

    def _archive_read(self, day: date | None) -> None:
        """One edition's archive of ``day`` has been read (or failed)."""
        if day is None or day not in self._archives_open:
            return
        self._archives_open[day] -= 1
        if self._archives_open[day] == 0:
            self.crawler.stats.inc_value(BACKFILL_DAYS_DONE)

    def sitemap_requests(self, window: Window, *, backfill: bool) -> Iterator[scrapy.Request]:
        """robots.txt of every selected edition's host (for its ``Sitemap:`` lines)."""
        for root in dict.fromkeys(edition.root for edition in self.selected):
            yield scrapy.Request(
                urljoin(root, "/robots.txt"), self.parse_robots, meta={"handle_httpstatus_list": [404]},
                cb_kwargs={"window": window, "backfill": backfill}, dont_filter=True,
            )

    def parse_robots(self, response: Response, window: Window, backfill: bool) -> Iterator[scrapy.Request]:
        """Follow the sitemaps robots.txt names, or ``/sitemap.xml`` when it names none."""
        found = (response.status == 200 and sitemaps_in_robots(response.body, response.url)) or [
            response.urljoin("/sitemap.xml")
        ]
        self.crawler.stats.inc_value(SITEMAPS_IN_ROBOTS, len(found))
        for url in found:
            yield self.sitemap_request(url, window, backfill=backfill, dated=False)

    def sitemap_request(self, url: str, window: Window, *, backfill: bool, dated: bool) -> scrapy.Request:
        """A request for a sitemap file; ``dated``: its index entry placed it in the window."""
        return scrapy.Request(
            url, self.parse_sitemap, meta=CONDITIONAL, cb_kwargs={"window": window, "backfill": backfill, "dated": dated}
        )

    def parse_sitemap(self, response: Response, window: Window, backfill: bool, dated: bool) -> Iterator[scrapy.Request]:
        """A sitemap index: children in the window. A urlset: article pages dated in the window
        (undated pages only when the crawl takes the latest news or the file itself is dated).

        The file is read as requests are taken from this generator: at most ``MAX_URLS`` entries,
        a gzipped one decompressed up to the size limit as it is read."""
        stats = self.crawler.stats
        if response.status == 304:
            return
        body = sitemap_body(response, response_limit(self.crawler, response.request))
        sitemap = open_sitemap(body)
        if sitemap is None:
            stats.inc_value(SITEMAP_UNREADABLE)
            self.logger.warning("not a sitemap: %s", response.url)
        else:
            stats.inc_value(SITEMAPS_FETCHED)
            yield from self._sitemap_children(response, sitemap, window, backfill) if sitemap.is_index \
                else self._sitemap_pages(response, sitemap, window, backfill, dated)
            if sitemap.cut:
                stats.inc_value(CUT_SITEMAP_URLS)
                self.logger.warning("sitemap lists more than %d entries, read that many: %s", MAX_URLS, response.url)
        if isinstance(body, BoundedGunzip) and body.cut:
            stats.inc_value(CUT_DECOMPRESSION)
            self.logger.warning("sitemap decompresses to more than %d bytes, read that far: %s", body.max_size, response.url)

    def _sitemap_children(self, response: Response, index: SitemapStream, window: Window,
                          backfill: bool) -> Iterator[scrapy.Request]:
        """The child sitemaps of an index that may hold pages of the window (up to ``NEWSCRAWL_SITEMAP_MAX_FILES``)."""
        stats = self.crawler.stats
        for entry in index:
            if not child_in_window(entry, window):
                stats.inc_value(SITEMAPS_OUTSIDE_WINDOW)
            elif self._sitemaps_followed >= setting_value("NEWSCRAWL_SITEMAP_MAX_FILES", self.settings):
                stats.inc_value(SITEMAPS_CAPPED)
            else:
                self._sitemaps_followed += 1
                dated_child = period_in_url(entry.loc) is not None
                child = page_link(response, entry.loc)
                if child:
                    yield self.sitemap_request(child, window, backfill=backfill, dated=dated_child)

    def _sitemap_pages(self, response: Response, urlset: SitemapStream, window: Window, backfill: bool,
                       dated: bool) -> Iterator[scrapy.Request]:
        """Article requests for the pages of a urlset dated in the window.

        Cheapest test first: a file may list 50,000 pages and skip them all between two requests
        (the reactor waits that long), so an absolute address is tested as it is and resolved only
        when taken."""
        outside = skipped = 0
        try:
            for entry in urlset:
                in_window = page_in_window(entry, window)
                if in_window is False or (in_window is None and backfill and not dated):
                    outside += 1
                    continue
                absolute = entry.loc.startswith(("http://", "https://"))
                url = page_link(response, entry.loc) if not absolute or self._article_address(entry.loc) else None
                if url is None or not self.is_article_url(url):
                    skipped += 1
                    continue
                self.crawler.stats.inc_value(SITEMAP_ENTRIES)
                published = entry.published.isoformat() if entry.published else None
                hint = FeedHint(title=entry.title, published_raw=published)
                yield self.article_request(url, hint, listed_at=entry.lastmod or entry.published)
        finally:
            if outside:
                self.crawler.stats.inc_value(SITEMAP_ENTRIES_OUTSIDE_WINDOW, outside)
            if skipped:
                self.crawler.stats.inc_value(SITEMAP_ENTRIES_SKIPPED, skipped)

    def _article_address(self, url: str) -> bool:
        """:meth:`is_article_url` for a link as the page gave it (False for no readable address)."""
        try:
            return self.is_article_url(url)
        except ValueError:
            return False

    def is_article_url(self, url: str) -> bool:
        """Whether ``url`` is one of this site's article pages."""
        if not (self.site.article_url and self.site.article_url.search(url)):
            return False
        host = urlsplit(url).hostname or ""
        return any(host == d or host.endswith("." + d) for d in self.allowed_domains)

    def feed_request(self, url: str) -> scrapy.Request:
        """A conditional request (ETag / If-Modified-Since) for a feed."""
        return scrapy.Request(url, self.parse_feed, meta=CONDITIONAL)

    def article_request(self, url: str, hint: FeedHint | None = None, *, listed_at: datetime | None = None) -> scrapy.Request:
        """A request for an article page carrying what the feed/listing said about it; ``listed_at``:
        when the listing says the story last changed (a stored older version is fetched again)."""
        meta = {"article": True, "listed_at": listed_at}
        if self.render_pages and self.settings.getbool("NEWSCRAWL_RENDERING"):
            meta.update({"playwright": True, RENDERED: True})
        return scrapy.Request(url, self.parse_article, cb_kwargs={"hint": hint}, meta=meta)

    def revisit_request(self, url: str, revisit: dict[str, Any], headers: dict[str, str]) -> scrapy.Request:
        """A request for a stored article's page again (``revisit``: which article), conditional
        on ``headers``, after the new articles (lower priority); its 304, 404 and 410 answers reach
        :meth:`parse_revisit`."""
        meta: dict[str, Any] = {REVISIT: revisit, "handle_httpstatus_list": [304, 404, 410]}
        if self.site.render and self.settings.getbool("NEWSCRAWL_RENDERING"):
            meta.update({"playwright": True, RENDERED: True})
        return scrapy.Request(url, self.parse_revisit, headers=headers, meta=meta, priority=-1)

    def parse_revisit(self, response: Response) -> Iterator[Any] | AsyncIterator[Any]:
        """A revisited article page: parsed as any article page when it answers 200; a 304
        (unchanged), 404 or 410 (gone) gives nothing (:mod:`newscrawl.crawl.revisit` notes them)."""
        if response.status != 200:
            return iter(())
        return self.parse_article(response)

    def rendered_request(self, request: scrapy.Request, url: str) -> scrapy.Request:
        """``request`` again, through the browser (counted as ``newscrawl/rendered_retry``); ``url``:
        the page its static answer came from."""
        self.crawler.stats.inc_value(RENDERED_RETRY)
        self.logger.info("no article body in the static page, rendering it: %s", url)
        return request.replace(meta={**request.meta, "playwright": True, RENDERED: True}, dont_filter=True)

    def page_selector(self, response: TextResponse, kind: str = "html") -> Selector:
        """A selector over the part of the page the spider reads: the first
        ``NEWSCRAWL_PARSE_MAX_BYTES`` (an HTML page without its scripts first, see
        :func:`~newscrawl.extract.parser.bounded_html`); a page cut is counted (``newscrawl/cut/html``)."""
        max_bytes = setting_value("NEWSCRAWL_PARSE_MAX_BYTES", self.settings)
        if kind == "xml":
            text, cut = cut_utf8(response.text, max_bytes)
            left_out = ["html"] if cut else []
        else:
            text, left_out = bounded_html(response.text, max_bytes)
        for name in left_out:
            self.crawler.stats.inc_value(CUT_PREFIX + name)
        return Selector(text=text, type=kind, base_url=response.url)

    def capped_links(self, links: Iterable[T], response: Response) -> Iterator[T]:
        """The first ``NEWSCRAWL_MAX_LINKS_PER_PAGE`` of a page's ``links``; the rest are not read
        (the page is counted as ``newscrawl/cut/links``)."""
        limit = setting_value("NEWSCRAWL_MAX_LINKS_PER_PAGE", self.settings)
        for count, link in enumerate(links):
            if count == limit:
                self.crawler.stats.inc_value(CUT_LINKS)
                self.logger.info("more than %d links on %s: the rest are not read", limit, response.url)
                return
            yield link

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        """RSS 2.0 or Atom: one article request per entry that links an article page."""
        if not isinstance(response, TextResponse):
            self.crawler.stats.inc_value(NOT_FEED)
            self.logger.warning("not a feed: %s", response.url)
            return
        if response.status == 304:  # unchanged since the last run (newscrawl.crawl.incremental.ConditionalFeeds)
            return
        self.crawler.stats.inc_value(FEEDS_FETCHED)
        selector = self.page_selector(response, "xml")
        selector.remove_namespaces()
        root = selector.root
        nodes = root.iter("item", "entry") if isinstance(root, etree._Element) else ()
        for node in self.capped_links(nodes, response):
            entry = Selector(root=node, type="xml")
            link = clean(entry.xpath("link/text()").get()) or clean(entry.xpath("link[not(@rel) or @rel='alternate']/@href").get())
            if not link:
                continue
            url = page_link(response, link)
            if url is None or not self.is_article_url(url):
                self.crawler.stats.inc_value(FEED_ENTRIES_SKIPPED)
                continue
            hint = FeedHint(
                title=clean(entry.xpath("title/text()").get()),
                summary=clean(entry.xpath("description/text() | summary/text()").get()),
                published_raw=clean(entry.xpath("pubDate/text() | published/text() | updated/text()").get()),
                section=clean(entry.xpath("category/text()").get()),
                image_url=clean(entry.xpath("enclosure/@url").get()),
            )
            self.crawler.stats.inc_value(FEED_ENTRIES)
            changed = clean(entry.xpath("updated/text()").get()) or hint.published_raw
            yield self.article_request(url, hint, listed_at=parse_date(changed) if changed else None)

    def parse_listing(self, response: Response, page: int | None,
                      selector: Selector | None = None, day: date | None = None) -> Iterator[scrapy.Request]:
        """A listing or archive page: every article link among the links read from it; archives
        follow their pagination. ``selector``: the page's :meth:`page_selector`, when already made;
        ``day``: the day of an archive page."""
        self.crawler.stats.inc_value(LISTINGS_FETCHED)
        selector = selector if selector is not None else self.page_selector(response)
        root = selector.root
        anchors = (a for a in root.iter("a") if a.get("href")) if isinstance(root, etree._Element) else ()
        max_pages = setting_value("NEWSCRAWL_ARCHIVE_MAX_PAGES", self.settings)
        wanted_page = self._page_pattern(page + 1) if page is not None and page < max_pages else None
        next_url: str | None = None
        seen: set[str] = set()
        for anchor in self.capped_links(anchors, response):
            link = page_link(response, anchor.get("href"))
            if link is None:
                continue
            if wanted_page and next_url is None and wanted_page.search(link) and \
                    urlsplit(link).path == urlsplit(response.url).path:
                next_url = link
            url = link.split("#", 1)[0]
            if url in seen or not self.is_article_url(url):
                continue
            seen.add(url)
            title = clean(" ".join(anchor.xpath(".//text()"))) or clean(next(iter(anchor.xpath(".//img/@alt")), None))
            yield self.article_request(url, FeedHint(title=title))
        self.crawler.stats.inc_value(LISTING_LINKS, len(seen))
        if seen and next_url:
            yield scrapy.Request(next_url, self.parse_listing, cb_kwargs={"page": page + 1, "day": day},
                                 errback=self.archive_failed if day else None)
        else:
            self._archive_read(day)

    def _page_pattern(self, number: int) -> re.Pattern[str]:
        """Where a listing's link to its page ``number`` carries the number (``?page=N``)."""
        return re.compile(rf"[?&]{re.escape(self.site.page_param)}={number}(?:&|$)")

    # -- articles ---------------------------------------------------------------------------

    async def parse(self, response: Response, **kwargs: Any) -> AsyncIterator[Any]:
        """The callback for a URL given alone (``scrapy parse --spider=SITE URL``): an article page
        of the site is parsed as one, a feed read as a feed, any other page as a listing."""
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1").lower()
        outputs: Iterator[Any] | AsyncIterator[Any]
        if self.is_article_url(response.url):
            outputs = self.parse_article(response)
        elif "xml" in content_type or "rss" in content_type or "atom" in content_type:
            outputs = self.parse_feed(response)
        else:
            outputs = self.parse_listing(response, None)
        if isinstance(outputs, AsyncIterator):
            async for output in outputs:
                yield output
        else:
            for output in outputs:
                yield output

    def parse_article(self, response: Response, hint: FeedHint | None = None) -> Iterator[Any] | AsyncIterator[Any]:
        """Parse an article page with the site parser; count pages that are not articles.

        With a parse pool open (``NEWSCRAWL_PARSE_WORKERS``) the page is parsed in a worker process
        and the callback is asynchronous: the reactor serves other responses meanwhile. Without
        one it is parsed here, by the same :func:`~newscrawl.crawl.parsepool.parse_page`."""
        if self.parse_pool is None:
            return self._parse_article_here(response, hint)
        return self._parse_article_in_pool(response, hint)

    def _parse_article_here(self, response: Response, hint: FeedHint | None) -> Iterator[Any]:
        page = self._article_page(response, hint)
        if page is not None:
            yield from self._article_outputs(response, parse_page(self.parser, page))

    async def _parse_article_in_pool(self, response: Response, hint: FeedHint | None) -> AsyncIterator[Any]:
        page = self._article_page(response, hint)
        if page is None or self.parse_pool is None:
            return
        parsed = await self.parse_pool.parse(self.parser, page)
        for output in self._article_outputs(response, parsed):
            yield output

    def _article_page(self, response: Response, hint: FeedHint | None) -> Page | None:
        """What parsing the page needs; None for a response that is not a page of text (counted)."""
        stats = self.crawler.stats
        stats.inc_value(ARTICLE_RESPONSES)
        if not hasattr(response, "text"):
            stats.inc_value(NOT_HTML)
            self.logger.warning("not an HTML page: %s", response.url)
            return None
        return Page(
            url=response.url, body=response.body, encoding=response.encoding, fetched_at=fetched_at(response),
            hint=hint, max_bytes=setting_value("NEWSCRAWL_PARSE_MAX_BYTES", self.settings),
            min_words=setting_value("NEWSCRAWL_DEDUPE_MIN_WORDS", self.settings),
            guess_language=setting_value("NEWSCRAWL_CHECK_LANGUAGE", self.settings),
        )

    def _article_outputs(self, response: Response, parsed: Parsed) -> Iterator[Any]:
        """The article, or the page again through the browser, or nothing; counted either way.

        A page that yields no plausible article body (no body: the parser keeps none that is not
        plausible) and carries script-built content goes through the browser once; where no
        browser can render it, it is dropped (``newscrawl/not_rendered``), never stored without
        the text its scripts build."""
        stats = self.crawler.stats
        article = parsed.article
        request = response.request  # None for a page given alone (a test, ``scrapy parse``)
        no_body = parsed.not_article is not None or (article is not None and not article.body)
        rendered = request is not None and request.meta.get(RENDERED)
        if no_body and not rendered and looks_script_rendered(response.text):
            if request is not None and self.settings.getbool("NEWSCRAWL_RENDERING"):
                yield self.rendered_request(request, response.url)
            else:
                stats.inc_value(NOT_RENDERED)
                self.logger.warning("no article body in the static page, whose scripts build it, and rendering is "
                                    "off: %s", response.url)
                FailedPages.note(self.crawler, response.url,
                                 "not rendered: its scripts build the article and rendering is off")
            return
        if parsed.not_article is not None:
            stats.inc_value(NOT_ARTICLE)
            self.logger.warning("%s", parsed.not_article)
            FailedPages.note(self.crawler, response.url, f"not an article: {parsed.not_article}")
            return
        if article is None:
            stats.inc_value(PARSE_ERRORS)
            self.logger.error("parser failed on %s\n%s", response.url, parsed.error)
            last_line = ((parsed.error or "").strip().splitlines() or ["?"])[-1]
            FailedPages.note(self.crawler, response.url, f"parser failed: {last_line}")
            return
        stats.inc_value(ARTICLES_PARSED)
        for left_out in article.truncated:
            stats.inc_value(CUT_PREFIX + left_out)
        for field, layer in article.layers.items():
            if isinstance(layer, str):
                stats.inc_value(f"{LAYER_PREFIX}{field}/{layer}")
            elif layer:  # a count, e.g. published_rejected: the date candidates turned down
                stats.inc_value(PARSER_COUNT_PREFIX + field, layer)
        for field in FILL_FIELDS:
            if getattr(article, field):
                stats.inc_value(FILL_PREFIX + field)
        yield article

    # -- the parse pool -----------------------------------------------------------------------

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        """The spider, with its parse pool opened when the spider opens and closed when it closes."""
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.check_settings(crawler.settings)
        crawler.signals.connect(spider.open_parse_pool, signal=signals.spider_opened)
        crawler.signals.connect(spider.close_parse_pool, signal=signals.spider_closed)
        return spider

    async def open_parse_pool(self) -> None:
        """Start ``NEWSCRAWL_PARSE_WORKERS`` workers (default: the machine's cores; 0: parse here)."""
        workers = setting_value("NEWSCRAWL_PARSE_WORKERS", self.settings)
        if workers <= 0:
            return
        try:
            ParserRef.of(self.parser)
        except ValueError as exc:
            self.logger.warning("pages are parsed in the crawler's process: %s", exc)
            return
        level = self.settings.get("LOG_LEVEL")
        pool = ParsePool(workers, self.crawler.stats, level if isinstance(level, int) else logging.getLevelName(level))
        await asyncio.to_thread(pool.start)
        self.parse_pool = pool

    async def close_parse_pool(self) -> None:
        """Stop the workers."""
        pool, self.parse_pool = self.parse_pool, None
        if pool is not None:
            await asyncio.to_thread(pool.close)


def page_link(response: Response, link: str) -> str | None:
    """``link`` from ``response`` made absolute (honouring ``<base href>``); None when unreadable."""
    return absolute_url(get_base_url(response) if isinstance(response, TextResponse) else response.url, link)


def sitemap_body(response: Response, max_size: int) -> bytes | BoundedGunzip:
    """The XML of a sitemap response: the body, or for a gzipped file (``.xml.gz``) its chunks,
    decompressed as they are read and at most ``max_size`` bytes of them."""
    body = response.body
    return BoundedGunzip(body, max_size) if body[:2] == b"\x1f\x8b" else body


def clean(value: str | None) -> str | None:
    """Strip a string; empty becomes None."""
    value = value.strip() if value else None
    return value or None


def fetched_at(response: Response) -> datetime:
    """When the page was fetched: the response's ``Date`` header (so replays keep their time), else
    now; never later than now (a server's clock ahead would let its pages date themselves in the future)."""
    now = datetime.now(timezone.utc)
    header = response.headers.get("Date")
    served = parse_date(header.decode("latin-1"), now=now) if header else None
    return min(served, now) if served else now
