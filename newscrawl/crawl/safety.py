"""Where the crawler may go: only http(s), and never to internal addresses it was not told about.

Pages, feeds, sitemaps, robots.txt files and redirects are written by others. One pointing at
``localhost``, ``10.0.0.0/8``, ``169.254.169.254`` (cloud metadata) and the like would make the
crawler a proxy into the operator's network (SSRF). The rule (:class:`TargetPolicy`, one per crawl:
an extension, found with :func:`targets_for`): a request must be http(s), and its host must not be,
or resolve to, a loopback, private, link-local, shared, multicast or reserved address — unless the
operator named that host: a site spider's edition hosts, the generic spider's ``-a url=`` hosts,
``NEWSCRAWL_ALLOW_PRIVATE_HOSTS``, the proxies in the environment, and the hosts of the spider's own
start requests. A redirect is judged on its own: it inherits its start request's meta
(``is_start_request``) but never its trust.

The rule is applied at every hop, without blocking the reactor:

- :class:`SafeTargets` (downloader middleware, first in line) checks every request Scrapy is about
  to download: start requests, links, both robots.txt requests (the spider's and Scrapy's), each
  redirect hop and each retry. A host not named is resolved on a thread and every address it has
  is checked; the verdicts of the last ``DNS_VERDICTS_KEPT`` hosts are remembered.
- :class:`PublicAddressResolver` (``TWISTED_DNS_RESOLVER``) checks the address Scrapy's HTTP client
  connects to, so a DNS answer that turns internal after the first check (DNS rebinding) is refused
  too: the host is then refused for the rest of the crawl.
- the browser (``newscrawl.crawl.rendering``) checks every request a rendered page makes.

A host is judged as the network reads it (:func:`canonical_host`): lower case, without its trailing
dot, in IDNA's ASCII form, and an IP address in any of the spellings resolvers and browsers accept
(``2852039166``, ``0xA9FEA9FE``, ``0251.0376.0251.0376``, ``169.254.43518``, ``127.1``,
``[::ffff:169.254.169.254]``) as that address. :meth:`TargetPolicy.host_refusal` is the one place a
host becomes a decision; an address is internal when it, or the IPv4 address an IPv6 one carries
(IPv4-mapped, -compatible or -translated, 6to4, NAT64), is not on the public internet
(:func:`is_internal`). A host no network can read (an IPv4 address out of range, a broken IDNA
label) is refused as ``invalid_host``.

Refusals are counted (``newscrawl/unsafe/<reason>``: ``scheme``, ``private_address``,
``invalid_host``) and logged one line each. Scrapy's ``file``, ``data``, ``ftp`` and ``s3`` download
handlers are off (settings).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import socket
import urllib.request
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import idna
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.resolver import CachingThreadedResolver
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import IResolverSimple
from zope.interface import implementer

from newscrawl.stats import UNSAFE_PREFIX

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


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: IPv6 prefixes whose last 32 bits are an IPv4 address the network may reach (IPv4-compatible,
#: IPv4-translated, NAT64); IPv4-mapped and 6to4 addresses are read by ``ipaddress`` itself
_CARRIES_IPV4 = tuple(ipaddress.IPv6Network(prefix) for prefix in ("::/96", "::ffff:0:0:0/96", "64:ff9b::/96"))
#: NAT64 for a local network (RFC 8215): whatever it reaches is the operator's
_LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")
#: a host label that makes it an IPv4 address: digits, or ``0x`` and hex digits
_NUMBER = re.compile(r"^(?:[0-9]+|0x[0-9a-f]*)$")


def is_internal(address: str | IPAddress) -> bool:
    """Whether an IP address is not on the public internet (nor is the IPv4 address it carries)."""
    ip = address if isinstance(address, (ipaddress.IPv4Address, ipaddress.IPv6Address)) \
        else ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _LOCAL_NAT64:
            return True
        carried = ip.ipv4_mapped or ip.sixtofour or next(
            (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) for net in _CARRIES_IPV4 if ip in net and int(ip) > 1), None)
        if carried is not None and is_internal(carried):
            return True
    return not ip.is_global or ip.is_multicast


def _ipv4_number(part: str) -> int | None:
    """One part of an IPv4 address as resolvers read it: decimal, ``0x`` hex, ``0`` octal."""
    if part.startswith("0x"):
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8) if set(part) <= set("01234567") else None
    return int(part)


def _ipv4(host: str) -> ipaddress.IPv4Address | None:
    """``host`` (lower case, no trailing dot, its last label a number) as the IPv4 address inet_aton
    and the URL standard read: one to four parts, the last filling the bytes left; None when invalid."""
    parts = host.split(".")
    read = [_ipv4_number(part) if _NUMBER.match(part) else None for part in parts]
    numbers = [number for number in read if number is not None]
    if len(parts) > 4 or len(numbers) < len(parts):
        return None
    *leading, last = numbers
    if any(number > 255 for number in leading) or last >= 256 ** (4 - len(leading)):
        return None
    return ipaddress.IPv4Address(last + sum(number << 8 * (3 - i) for i, number in enumerate(leading)))


def canonical_host(host: str) -> str | None:
    """``host`` as the network reads it, or None when no network can: lower case, percent-escapes
    decoded, brackets, zone and trailing dots dropped, IDNA's ASCII form (UTS #46: full-width
    digits and dots too), an IP address in any accepted spelling written the standard way."""
    name = unquote(host).strip().lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    if ":" in name:
        try:
            return ipaddress.IPv6Address(name.split("%", 1)[0]).compressed
        except ValueError:
            return None
    name = name.rstrip(".")
    if not name.isascii():
        try:
            name = idna.encode(name, uts46=True).decode("ascii").rstrip(".")
        except idna.IDNAError:
            return None
    if _NUMBER.match(name.rsplit(".", 1)[-1]):
        address = _ipv4(name)
        return str(address) if address is not None else None
    return name


def literal_address(host: str) -> IPAddress | None:
    """The IP address a canonical host is, if it is one."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _bare(host: str) -> str:
    """A host as hosts are compared here: canonical (else as given, lower case), no ``www.``."""
    return (canonical_host(host) or host.lower()).removeprefix("www.")


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
    """Which hosts one crawl may reach (see the module docstring): an extension, which
    :func:`targets_for` finds."""

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

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> TargetPolicy:
        """Scrapy's extension constructor."""
        return cls(crawler)

    def named_hosts(self) -> set[str]:
        """Hosts the operator chose: the spider's editions, its start requests' hosts, the setting
        and the environment's proxies."""
        site = getattr(self.crawler.spider, "site", None)  # a news spider's; none on another spider
        declared = {_bare(urlsplit(e.base_url).hostname or "") for e in site.editions.values()} if site else set()
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
        """Why ``url`` must not be requested (``scheme``, ``private_address``, ``invalid_host``), or None."""
        try:
            split = urlsplit(url)
            host = split.hostname or ""
        except ValueError:
            return "scheme"
        if split.scheme not in allowed_schemes:
            return "scheme"
        if split.scheme not in ("http", "https") or self.offline or not host:
            return None
        return await self.host_refusal(host)

    async def host_refusal(self, host: str) -> str | None:
        """Why ``host`` must not be reached (``private_address``, ``invalid_host``), or None: the
        one place a host becomes a decision (see the module docstring)."""
        canonical = canonical_host(host)
        if canonical is None:
            return "invalid_host"
        if canonical.removeprefix("www.") in self.named_hosts():
            return None
        if canonical.removeprefix("www.") in self.refused_at_connect:
            return "private_address"
        return "private_address" if await self._resolves_internal(canonical) else None

    async def _resolves_internal(self, host: str) -> bool:
        """Whether canonical ``host`` is, or resolves to, any internal address (looked up on a
        thread; unresolvable: no, the download fails on its own)."""
        literal = literal_address(host)
        if literal is not None:
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
    """The crawl's one :class:`TargetPolicy`: the enabled extension. A crawl without it does not
    start: nothing would keep it from internal addresses."""
    policy = crawler.get_extension(TargetPolicy)
    if policy is None:
        raise RuntimeError("no target policy: enable the extension newscrawl.crawl.safety.TargetPolicy "
                           "(setting EXTENSIONS)")
    return policy


class SafeTargets:
    """Downloader middleware: refuse non-http(s) URLs and internal addresses nobody named."""

    def __init__(self, crawler: Crawler, policy: TargetPolicy) -> None:
        self.crawler = crawler
        self.policy = policy
        #: schemes besides http(s) the operator allowed (``scrapy shell`` allows ``file`` for a saved page)
        self.schemes = ("http", "https", *crawler.settings.getlist("NEWSCRAWL_LOCAL_SCHEMES"))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SafeTargets:
        """Scrapy's middleware constructor: the crawl's target policy."""
        return cls(crawler, targets_for(crawler))

    async def process_request(self, request: Request) -> None:
        """Raise :class:`UnsafeRequest` for a request that must not be made."""
        self.policy.name_start_host(request)
        reason = await self.policy.refusal(request.url, allowed_schemes=self.schemes)
        if reason is None:
            return
        self.crawler.stats.inc_value(UNSAFE_PREFIX + reason)
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
