"""Where the crawler may go: only http(s), and never to internal addresses it was not told about.

Pages, feeds, sitemaps, robots.txt files and redirects are written by others. One pointing at
``localhost``, ``10.0.0.0/8``, ``169.254.169.254`` (cloud metadata) and the like would make the
crawler a proxy into the operator's network (SSRF). The rule (:class:`TargetPolicy`, one per crawl):
a request must be http(s), and its host must not be, or resolve to, a loopback, private,
link-local, shared, multicast or reserved address — unless the operator named that host: a site
spider's edition hosts, the generic spider's ``-a url=`` hosts, ``NEWSCRAWL_ALLOW_PRIVATE_HOSTS``,
the proxies in the environment, and the hosts of the spider's own start requests. A redirect is
judged on its own: it inherits its start request's meta (``is_start_request``) but never its trust.

The rule is applied at every hop, without blocking the reactor:

- :class:`SafeTargets` (downloader middleware, first in line) checks every request Scrapy is about
  to download: start requests, links, both robots.txt requests (the spider's and Scrapy's), each
  redirect hop and each retry. A host not named is resolved on a thread and every address it has
  is checked; the verdicts of the last ``DNS_VERDICTS_KEPT`` hosts are remembered.
- :class:`PublicAddressResolver` (``TWISTED_DNS_RESOLVER``) checks the address Scrapy's HTTP client
  connects to, so a DNS answer that turns internal after the first check (DNS rebinding) is refused
  too: the host is then refused for the rest of the crawl.
- the browser (``newscrawl.crawl.rendering``) checks every request a rendered page makes.

Refusals are counted (``newscrawl/unsafe/<reason>``: ``scheme``, ``private_address``) and logged
one line each. Scrapy's ``file``, ``data``, ``ftp`` and ``s3`` download handlers are off (settings).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import urllib.request
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.resolver import CachingThreadedResolver
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import IResolverSimple
from zope.interface import implementer

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from twisted.internet.defer import Deferred

logger = logging.getLogger(__name__)

DNS_VERDICTS_KEPT = 4096
#: the live crawls' policies, for the process-wide resolver (weak: a finished crawl's goes away)
_POLICIES: weakref.WeakSet[TargetPolicy] = weakref.WeakSet()


class UnsafeRequest(IgnoreRequest):
    """A request the crawler must not make."""


class UnsafeAddress(DNSLookupError):
    """A DNS answer the resolver refused: an internal address for a host nobody named."""


def is_internal(address: str) -> bool:
    """Whether an IP address is not on the public internet."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def _bare(host: str) -> str:
    """A host as hosts are compared here: lower case, no trailing dot, no ``www.``."""
    return host.lower().rstrip(".").removeprefix("www.")


def _literal_address(host: str) -> str | None:
    """``host`` when it is an IP address (``[::1]`` arrives as ``::1``), else None."""
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    return host


def proxy_hosts() -> set[str]:
    """The hosts of the proxies the environment configures (``http_proxy`` …): the operator's."""
    found = set()
    for url in urllib.request.getproxies().values():
        try:
            host = urlsplit(url if "://" in url else f"http://{url}").hostname
        except ValueError:
            continue
        if host:
            found.add(_bare(host))
    return found


class TargetPolicy:
    """Which hosts one crawl may reach (see the module docstring); :func:`targets_for` gives it."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.offline = bool(settings.get("NEWSCRAWL_REPLAY"))  # replays never touch the network
        self.operator_hosts = {_bare(h) for h in settings.getlist("NEWSCRAWL_ALLOW_PRIVATE_HOSTS")} | proxy_hosts()
        self.start_hosts: set[str] = set()
        #: hosts whose address turned internal when Scrapy's client connected (the resolver saw it)
        self.refused_at_connect: set[str] = set()
        self._resolved: OrderedDict[str, bool] = OrderedDict()  # host -> resolves to an internal address
        _POLICIES.add(self)

    def named_hosts(self) -> set[str]:
        """Hosts the operator chose: the spider's editions, its start requests' hosts, the setting
        and the environment's proxies."""
        editions = getattr(self.crawler.spider, "editions", None) or {}
        declared = {_bare(urlsplit(e.base_url).hostname or "") for e in editions.values()}
        return self.operator_hosts | self.start_hosts | declared

    def is_named(self, host: str) -> bool:
        """Whether the operator named ``host``."""
        return _bare(host) in self.named_hosts()

    def name_start_host(self, request: Request) -> None:
        """A start request written by the spider (not a redirect of one) names its host."""
        if request.meta.get("is_start_request") and not request.meta.get("redirect_urls"):
            split = urlsplit(request.url)
            if split.scheme in ("http", "https") and split.hostname:
                self.start_hosts.add(_bare(split.hostname))

    async def refusal(self, url: str, *, allowed_schemes: Sequence[str] = ("http", "https")) -> str | None:
        """Why ``url`` must not be requested (``scheme``, ``private_address``), or None."""
        try:
            split = urlsplit(url)
            host = (split.hostname or "").lower()
        except ValueError:
            return "scheme"
        if split.scheme not in allowed_schemes:
            return "scheme"
        if split.scheme not in ("http", "https") or self.offline or not host or self.is_named(host):
            return None
        if _bare(host) in self.refused_at_connect:
            return "private_address"
        return "private_address" if await self._resolves_internal(host) else None

    async def _resolves_internal(self, host: str) -> bool:
        """Whether ``host`` is, or resolves to, any internal address (looked up on a thread;
        unresolvable: no, the download fails on its own)."""
        literal = _literal_address(host)
        if literal:
            return is_internal(literal)
        known = self._resolved.get(host)
        if known is not None:
            self._resolved.move_to_end(host)
            return known
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            return False
        internal = any(is_internal(str(info[4][0])) for info in infos)
        self._resolved[host] = internal
        while len(self._resolved) > DNS_VERDICTS_KEPT:
            self._resolved.popitem(last=False)
        return internal


def targets_for(crawler: Crawler) -> TargetPolicy:
    """The crawl's one :class:`TargetPolicy` (made on first use)."""
    policy: TargetPolicy | None = getattr(crawler, "_newscrawl_targets", None)
    if policy is None:
        policy = TargetPolicy(crawler)
        crawler._newscrawl_targets = policy  # type: ignore[attr-defined]
    return policy


class SafeTargets:
    """Downloader middleware: refuse non-http(s) URLs and internal addresses nobody named."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.policy = targets_for(crawler)
        #: schemes besides http(s) the operator allowed (``scrapy shell`` allows ``file`` for a saved page)
        self.schemes = ("http", "https", *crawler.settings.getlist("NEWSCRAWL_LOCAL_SCHEMES"))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SafeTargets:
        """Scrapy's middleware constructor."""
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        """Raise :class:`UnsafeRequest` for a request that must not be made."""
        self.policy.name_start_host(request)
        reason = await self.policy.refusal(request.url, allowed_schemes=self.schemes)
        if reason is None:
            return
        self.crawler.stats.inc_value(f"newscrawl/unsafe/{reason}")
        hops = request.meta.get("redirect_urls") or []
        origin = f" (redirected from {hops[-1]})" if hops else ""
        logger.warning("refused %s: %s%s", reason.replace("_", " "), request.url, origin)
        raise UnsafeRequest(f"{reason}: {request.url}")


@implementer(IResolverSimple)
class PublicAddressResolver(CachingThreadedResolver):
    """Scrapy's caching resolver that refuses an internal address for a host no crawl named.

    The address checked is the one Scrapy's HTTP client connects to; the refusal fails the download
    as a DNS error, and the live policies remember the host so its retries are refused outright.
    """

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:  # noqa: N802 - Twisted's name
        """Resolve ``name`` (cached), then check the address."""
        return super().getHostByName(name, timeout).addCallback(self._checked, name)

    @staticmethod
    def _checked(address: Any, name: str) -> Any:
        policies = list(_POLICIES)
        if not is_internal(str(address)) or any(policy.is_named(name) for policy in policies):
            return address
        for policy in policies:
            policy.refused_at_connect.add(_bare(name))
        logger.warning("refused to connect to %s: it resolves to the internal address %s", name, address)
        raise UnsafeAddress(f"{name} resolves to the internal address {address}")
