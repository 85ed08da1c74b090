"""Where the crawler may go: only http(s), and never to private addresses it was not told about.

Pages, feeds and sitemaps are written by others. A link, a redirect or a DNS answer pointing at
``localhost``, ``10.0.0.0/8``, ``169.254.169.254`` (cloud metadata) and the like would make the
crawler a proxy into the operator's network (SSRF). :class:`SafeTargets` refuses, before download,
every request that is not http(s) and every request whose host is or resolves to a loopback,
private, link-local, multicast or reserved address — unless the host is one the operator named:
a site spider's edition hosts, the generic spider's ``-a url=`` hosts, the hosts of any spider's
start requests, or ``NEWSCRAWL_ALLOW_PRIVATE_HOSTS``. Refusals are counted (``newscrawl/unsafe/<reason>``).
Scrapy's ``file``, ``data``, ``ftp`` and ``s3`` download handlers are switched off in the settings.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from functools import lru_cache
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest

logger = logging.getLogger(__name__)


class UnsafeRequest(IgnoreRequest):
    """A request the crawler must not make."""


def is_internal(address: str) -> bool:
    """Whether an IP address is not on the public internet."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


@lru_cache(maxsize=4096)
def resolves_internal(host: str) -> bool:
    """Whether ``host`` is, or resolves to, a non-public address (unresolvable: no; the download fails)."""
    try:
        return is_internal(host)
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False
    return any(is_internal(info[4][0].split("%", 1)[0]) for info in infos)


class SafeTargets:
    """Downloader middleware: refuse non-http(s) URLs and unnamed private hosts."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.extra_hosts = {h.lower() for h in crawler.settings.getlist("NEWSCRAWL_ALLOW_PRIVATE_HOSTS")}
        self.offline = bool(crawler.settings.get("NEWSCRAWL_REPLAY"))  # replays never touch the network
        self.start_hosts: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SafeTargets:
        """Scrapy's middleware constructor."""
        return cls(crawler)

    def named_hosts(self) -> set[str]:
        """Hosts the operator chose: the spider's editions (or start URLs), its start requests' hosts
        and the setting."""
        editions = getattr(self.crawler.spider, "editions", {}) or {}
        declared = {(urlsplit(e.base_url).hostname or "").lower() for e in editions.values()}
        return self.extra_hosts | self.start_hosts | declared

    def process_request(self, request: Request) -> None:
        """Raise :class:`UnsafeRequest` for a request that must not be made."""
        split = urlsplit(request.url)
        reason = None
        if split.scheme not in ("http", "https"):
            reason = "scheme"
        elif request.meta.get("is_start_request"):  # written by the spider or its operator, not by a page
            self.start_hosts.add((split.hostname or "").lower())
        elif not self.offline:
            host = (split.hostname or "").lower()
            named = self.named_hosts()
            if host not in named and host.removeprefix("www.") not in named and resolves_internal(host):
                reason = "private_address"
        if reason:
            self.crawler.stats.inc_value(f"newscrawl/unsafe/{reason}")
            logger.warning("refused %s: %s", reason.replace("_", " "), request.url)
            raise UnsafeRequest(f"{reason}: {request.url}")
