"""Finding a site's feeds and article pages without knowing the site (the generic spider's eyes)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from parsel import Selector

from newscrawl.extract.urls import absolute_url

#: where sites put feeds when the home page does not announce them
COMMON_FEED_PATHS = ("/feed", "/rss", "/rss.xml", "/feed.xml", "/atom.xml", "/index.xml", "/rss/all.xml")
_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json", "application/xml", "text/xml")
_NOT_ARTICLE_PATH = re.compile(
    r"/(?:tags?|category|categories|rubric|section|topics?|authors?|search|page|login|register|about|contacts?"
    r"|privacy|terms|advert\w*|subscribe|feed|rss|archives?|video|photo|gallery|live)(?:/|$)",
    re.I,
)
_FILE_SUFFIX = re.compile(r"\.(?:jpe?g|png|gif|webp|svg|pdf|zip|mp[34]|xml|json|js|css|ico)$", re.I)
_DATE_IN_PATH = re.compile(r"/(?:19|20)\d\d/(?:0?[1-9]|1[0-2])/")
_LONG_NUMBER = re.compile(r"\d{4,}")
#: feeds one page may announce that are taken (a site announces one per section at most)
MAX_ANNOUNCED_FEEDS = 50


def feed_links(sel: Selector, base_url: str) -> list[str]:
    """Feeds a page announces with ``<link rel="alternate" type="application/rss+xml">`` (or Atom),
    the first :data:`MAX_ANNOUNCED_FEEDS` of them."""
    found: dict[str, None] = {}
    for node in sel.xpath('//link[contains(concat(" ", normalize-space(@rel), " "), " alternate ")][@href]'):
        kind = (node.root.get("type") or "").strip().lower()
        if kind in _FEED_TYPES and not node.root.get("hreflang"):
            url = absolute_url(base_url, node.root.get("href"))
            if url:
                found[url] = None
                if len(found) == MAX_ANNOUNCED_FEEDS:
                    break
    return list(found)


def same_site(url: str, hosts: list[str]) -> bool:
    """Whether ``url``'s host is one of ``hosts`` (without ``www.``) or a subdomain of one."""
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    return any(host == h or host.endswith("." + h) for h in hosts)


def looks_like_article_url(url: str) -> bool:
    """A guess from the URL alone: http(s), not a file or a section/tag/author page, and a path
    that carries a date, a long number or a long hyphenated slug."""
    split = urlsplit(url)
    if split.scheme not in ("http", "https"):
        return False
    path = split.path
    if not path.strip("/") or _FILE_SUFFIX.search(path) or _NOT_ARTICLE_PATH.search(path):
        return False
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return bool(_DATE_IN_PATH.search(path) or _LONG_NUMBER.search(last) or last.count("-") >= 3)
