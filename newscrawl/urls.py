"""URL identity: one function decides when two URLs name the same page."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

#: query parameters that only track the visitor
TRACKING_PARAMS = re.compile(r"^(utm_\w+|fbclid|gclid|dclid|yclid|msclkid|mc_cid|mc_eid|_ga|_gl|igshid|ref_src|amp|outputtype)$", re.I)
_HOST_PREFIXES = ("www.", "m.", "mobile.", "amp.")
_AMP_PATH = re.compile(r"(/amp)+/?$|^/amp(?=/)", re.I)


def absolute_url(base: str, link: str) -> str | None:
    """``link`` (from a page: anything) resolved against ``base``; None when it is no readable
    address (e.g. ``http://[x/a``, which ``urljoin`` refuses with ValueError)."""
    try:
        url = urljoin(base, link.strip())
        urlsplit(url).port  # noqa: B018 - a bad port raises here rather than later
    except ValueError:
        return None
    return url


def url_key(url: str) -> str:
    """The identity of a page: the same for http/https, ``www.``/``m.``/``amp.`` hosts, AMP paths,
    tracking parameters (utm_*, fbclid, gclid…), parameter order, fragments and trailing slashes.

    It is a key, not always a fetchable URL (the host loses its ``www.``).
    """
    url = canonicalize_url(url.strip(), keep_fragments=False)
    split = urlsplit(url)
    query_pairs = [p for p in split.query.split("&") if p and not TRACKING_PARAMS.match(p.split("=", 1)[0])]
    host = (split.hostname or "").lower()
    for prefix in _HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix):]
            break
    if split.port and split.port not in (80, 443):
        host = f"{host}:{split.port}"
    path = _AMP_PATH.sub("", split.path) or "/"
    if len(path) > 1:
        path = path.rstrip("/")
    return urlunsplit(("https", host, path, "&".join(query_pairs), ""))



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
