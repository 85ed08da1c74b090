"""URLs read from pages: resolved, checked for http(s), and whether two pages belong to the same site
(only a page of the same site may say which URL an article has). When two URLs name the same page
is an article's identity (:func:`newscrawl.extract.identity.url_key`)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import cache, lru_cache
from urllib.parse import urljoin, urlsplit

from tldextract import TLDExtract


def absolute_url(base: str, link: str) -> str | None:
    """``link`` (from a page: anything) resolved against ``base``; None when it is no readable
    address (e.g. ``http://[x/a``, which ``urljoin`` refuses with ValueError)."""
    try:
        url = urljoin(base, link.strip())
        urlsplit(url).port  # noqa: B018 - a bad port raises here rather than later
    except ValueError:
        return None
    return url


def is_http_url(url: str | None) -> bool:
    """Whether ``url`` is an absolute http(s) URL with a host: the only kind stored in URL fields
    (not ``javascript:``, ``data:``, ``mailto:``…)."""
    if not url:
        return False
    try:
        split = urlsplit(url)
        return split.scheme in ("http", "https") and bool(split.hostname)
    except ValueError:
        return False


@cache
def _public_suffixes() -> TLDExtract:
    """The Public Suffix List shipped inside tldextract (a Scrapy dependency); never downloaded.
    Private suffixes count (``github.io``, ``blogspot.com``): their users are separate owners."""
    return TLDExtract(cache_dir=None, suffix_list_urls=(), include_psl_private_domains=True)


@lru_cache(maxsize=4096)
def registrable_domain(host: str) -> str:
    """The part of ``host`` one owner registers: the public suffix and one label before it
    (``news.bbc.co.uk`` → ``bbc.co.uk``). An IP address, a single-label host (``localhost``), a
    host under no known suffix or a bare suffix is its own registrable domain."""
    host = host.lower().rstrip(".")
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    parts = _public_suffixes()(host)
    return f"{parts.domain}.{parts.suffix}" if parts.domain and parts.suffix else host


def same_site(url: str, other: str, edition_hosts: Iterable[str] = ()) -> bool:
    """Whether ``other`` belongs to the site of ``url``: both have one registrable domain, or both
    are on hosts (or subdomains) of one site spider's editions (``unian.ua`` and ``unian.info``)."""
    try:
        host, other_host = (urlsplit(u).hostname or "" for u in (url, other))
    except ValueError:
        return False
    if not host or not other_host:
        return False
    if registrable_domain(host) == registrable_domain(other_host):
        return True
    editions = [h.lower().removeprefix("www.") for h in edition_hosts]

    def on_edition(name: str) -> bool:
        name = name.removeprefix("www.")
        return any(name == h or name.endswith("." + h) for h in editions)

    return bool(editions) and on_edition(host) and on_edition(other_host)


def edition_language(url: str, editions: dict[str, str]) -> str | None:
    """The language of the site edition ``url`` belongs to.

    ``editions`` maps an edition prefix — a host without ``www.``, optionally followed by a path
    (``pravda.com.ua/rus/``) — to its language. Subdomains belong to their parent's editions; the
    longest matching prefix wins, so ``pravda.com.ua/rus/`` beats ``pravda.com.ua``.
    """
    split = urlsplit(url)
    host = (split.hostname or "").lower().removeprefix("www.")
    path = split.path or "/"
    best: tuple[int, str] | None = None
    for prefix, language in editions.items():
        prefix_host, _, prefix_path = prefix.partition("/")
        if not (host == prefix_host or host.endswith("." + prefix_host)):
            continue
        if prefix_path and not path.startswith("/" + prefix_path):
            continue
        if best is None or len(prefix) > best[0]:
            best = (len(prefix), language)
    return best[1] if best else None
