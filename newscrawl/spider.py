"""The crawling behaviour every site spider inherits: feeds, listings, daily archives, articles.

A site spider only declares its editions (language → base URL and feeds), its listing and archive
URL templates and its parser (a :class:`~newscrawl.parser.ParserProxy`). Arguments:

- ``-a editions=uk,en``: crawl only these editions (default: all);
- ``-a since=2023-02-01 -a until=2023-02-28``: backfill by walking the daily archive pages of those
  days, then stop (``until`` defaults to ``since``); without ``since`` the spider takes the latest
  news from the feeds and the first ``NEWSCRAWL_LISTING_PAGES`` listing pages.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.http import Response

from newscrawl.dates import parse_date
from newscrawl.parser import FeedHint, NotAnArticle, ParserProxy


@dataclass(frozen=True)
class Edition:
    """One edition of a site: its language, home URL and feeds."""

    language: str
    base_url: str
    feeds: tuple[str, ...] = ()

    @property
    def host(self) -> str:
        """The edition's host without ``www.``."""
        return (urlsplit(self.base_url).hostname or "").removeprefix("www.")


def languages_by_host(editions: dict[str, Edition]) -> dict[str, str]:
    """{host: language} for a parser's ``EDITIONS``."""
    return {edition.host: edition.language for edition in editions.values()}


class SpiderArgumentError(ValueError):
    """A spider argument (``-a``) is invalid."""


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise SpiderArgumentError(f"-a {name}={value!r}: expected a day as YYYY-MM-DD") from exc


class NewsSpider(scrapy.Spider):
    """Base spider: discovery from feeds, listings and daily archives; parsing by the site parser."""

    editions: ClassVar[dict[str, Edition]] = {}
    parser: ClassVar[type[ParserProxy]]
    #: path of the all-news listing, ``{page}`` is the page number (1-based)
    listing_path: ClassVar[str | None] = None
    #: path of one day's archive, ``{day}`` is a :class:`date`
    archive_path: ClassVar[str | None] = None
    #: the query parameter that paginates listings and archives
    page_param: ClassVar[str] = "page"

    def __init__(
        self,
        *args: Any,
        editions: str | None = None,
        since: str | None = None,
        until: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        wanted = [e.strip() for e in editions.split(",") if e.strip()] if editions else list(self.editions)
        unknown = sorted(set(wanted) - set(self.editions))
        if unknown:
            raise SpiderArgumentError(
                f"-a editions: unknown {', '.join(unknown)}; {self.name} has {', '.join(self.editions)}"
            )
        self.selected = [self.editions[lang] for lang in wanted]
        self.since = _day(since, "since") if since else None
        self.until = _day(until, "until") if until else self.since
        if until and not since:
            raise SpiderArgumentError("-a until needs -a since")
        if self.since and self.until and self.until < self.since:
            raise SpiderArgumentError(f"-a until={self.until} is before since={self.since}")
        self.allowed_domains = [edition.host for edition in self.editions.values()]

    # -- discovery --------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        """Backfill the archive days when ``since`` is given, else feeds and latest listings."""
        for request in self.first_requests():
            yield request

    def first_requests(self) -> Iterator[scrapy.Request]:
        """Archive days (backfill) or feeds and listing pages (latest)."""
        if self.since and self.until:
            if not self.archive_path:
                raise SpiderArgumentError(f"{self.name} has no daily archive; cannot use -a since")
            day = self.since
            while day <= self.until:
                for edition in self.selected:
                    url = urljoin(edition.base_url, self.archive_path.format(day=day))
                    yield scrapy.Request(url, self.parse_listing, cb_kwargs={"page": 1})
                day += timedelta(days=1)
            return
        for edition in self.selected:
            for feed in edition.feeds:
                yield scrapy.Request(feed, self.parse_feed)
            if self.listing_path:
                pages = self.settings.getint("NEWSCRAWL_LISTING_PAGES", 1)
                for page in range(1, pages + 1):
                    url = urljoin(edition.base_url, self.listing_path.format(page=page))
                    yield scrapy.Request(url, self.parse_listing, cb_kwargs={"page": None})

    def is_article_url(self, url: str) -> bool:
        """Whether ``url`` is one of this site's article pages."""
        pattern = self.parser.versions[-1].ARTICLE_URL
        host = urlsplit(url).hostname or ""
        return bool(pattern and pattern.search(url)) and any(
            host == d or host.endswith("." + d) for d in self.allowed_domains
        )

    def article_request(self, url: str, hint: FeedHint | None = None) -> scrapy.Request:
        """A request for an article page carrying what the feed/listing said about it."""
        return scrapy.Request(url, self.parse_article, cb_kwargs={"hint": hint})

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        """RSS 2.0 or Atom: one article request per entry that links an article page."""
        self.crawler.stats.inc_value("newscrawl/feeds_fetched")
        selector = scrapy.Selector(response, type="xml")
        selector.remove_namespaces()
        entries = selector.xpath("//item | //entry")
        for entry in entries:
            link = clean(entry.xpath("link/text()").get()) or clean(entry.xpath("link/@href").get())
            if not link:
                continue
            url = response.urljoin(link)
            if not self.is_article_url(url):
                self.crawler.stats.inc_value("newscrawl/feed_entries_skipped")
                continue
            hint = FeedHint(
                title=clean(entry.xpath("title/text()").get()),
                summary=clean(entry.xpath("description/text() | summary/text()").get()),
                published_raw=clean(entry.xpath("pubDate/text() | published/text() | updated/text()").get()),
                section=clean(entry.xpath("category/text()").get()),
                image_url=clean(entry.xpath("enclosure/@url").get()),
            )
            self.crawler.stats.inc_value("newscrawl/feed_entries")
            yield self.article_request(url, hint)

    def parse_listing(self, response: Response, page: int | None) -> Iterator[scrapy.Request]:
        """A listing or archive page: every article link on it; archives follow their pagination."""
        self.crawler.stats.inc_value("newscrawl/listings_fetched")
        seen: set[str] = set()
        for link in response.css("a"):
            href = link.attrib.get("href")
            if not href:
                continue
            url = response.urljoin(href.strip()).split("#", 1)[0]
            if url in seen or not self.is_article_url(url):
                continue
            seen.add(url)
            title = clean(" ".join(link.css("::text").getall())) or clean(link.css("img::attr(alt)").get())
            yield self.article_request(url, FeedHint(title=title))
        self.crawler.stats.inc_value("newscrawl/listing_links", len(seen))
        max_pages = self.settings.getint("NEWSCRAWL_ARCHIVE_MAX_PAGES", 30)
        if page is not None and seen and page < max_pages:
            next_url = self._next_page(response, page + 1)
            if next_url:
                yield scrapy.Request(next_url, self.parse_listing, cb_kwargs={"page": page + 1})

    def _next_page(self, response: Response, number: int) -> str | None:
        pattern = re.compile(rf"[?&]{re.escape(self.page_param)}={number}(?:&|$)")
        for href in response.css("a::attr(href)").getall():
            url = response.urljoin(href)
            if pattern.search(url) and urlsplit(url).path == urlsplit(response.url).path:
                return url
        return None

    # -- articles ---------------------------------------------------------------------------

    def parse_article(self, response: Response, hint: FeedHint | None = None) -> Iterator[Any]:
        """Parse an article page with the site parser; count pages that are not articles."""
        stats = self.crawler.stats
        if not hasattr(response, "text"):
            stats.inc_value("newscrawl/not_html")
            self.logger.warning("not an HTML page: %s", response.url)
            return
        try:
            article = self.parser.parse(response.text, response.url, fetched_at=fetched_at(response), hint=hint)
        except NotAnArticle as exc:
            stats.inc_value("newscrawl/not_article")
            self.logger.warning("%s", exc)
            return
        except Exception:
            stats.inc_value("newscrawl/parse_error")
            self.logger.exception("parser failed on %s", response.url)
            return
        stats.inc_value("newscrawl/articles_parsed")
        for field, layer in article.layers.items():
            stats.inc_value(f"newscrawl/layer/{field}/{layer}")
        yield article


def clean(value: str | None) -> str | None:
    """Strip a string; empty becomes None."""
    value = value.strip() if value else None
    return value or None


def fetched_at(response: Response) -> datetime:
    """When the page was fetched: the response's ``Date`` header (so replays keep their time), else now."""
    now = datetime.now(timezone.utc)
    header = response.headers.get("Date")
    served = parse_date(header.decode("latin-1"), now=now) if header else None
    return served or now
