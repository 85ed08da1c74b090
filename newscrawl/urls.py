"""URL identity: one function decides when two URLs name the same page."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from w3lib.url import canonicalize_url

#: query parameters that only track the visitor
TRACKING_PARAMS = re.compile(r"^(utm_\w+|fbclid|gclid|dclid|yclid|msclkid|mc_cid|mc_eid|_ga|_gl|igshid|ref_src|amp|outputtype)$", re.I)
_HOST_PREFIXES = ("www.", "m.", "mobile.", "amp.")
_AMP_PATH = re.compile(r"(/amp)+/?$|^/amp(?=/)", re.I)


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

