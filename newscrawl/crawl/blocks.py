"""Block pages: 403/429 answers and pages that stand between us and the article (captcha, "enable
JavaScript", bot checks, consent walls). They are retried with backoff, counted
(``newscrawl/blocked/<reason>``) and never parsed as articles."""

from __future__ import annotations

import re

from scrapy.http import HtmlResponse, Response

BLOCK_STATUSES = {403: "http_403", 429: "http_429"}
_MARKERS = {
    "captcha": re.compile(r"captcha|are you a (?:robot|human)|я не робот|не робот", re.I),
    "bot_check": re.compile(r"just a moment\.\.\.|checking your browser|attention required|cf-chl-|challenge-platform"
                            r"|access denied|ddos protection", re.I),
    "javascript_required": re.compile(r"enable javascript|javascript is (?:disabled|required)|увімкніть javascript"
                                      r"|включите javascript", re.I),
    "consent_wall": re.compile(r"consent to (?:continue|the use)|accept (?:all )?cookies to continue|cookie wall", re.I),
}
_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S | re.I)
#: a page with more visible words than this is content, whatever it mentions
MAX_BLOCK_PAGE_WORDS = 300


def block_reason(response: Response) -> str | None:
    """Why ``response`` is a block page (``http_403``, ``captcha``, …), or None for a real page.

    Only short HTML pages are read for markers: a feed or a long article may mention a captcha."""
    if response.status in BLOCK_STATUSES:
        return BLOCK_STATUSES[response.status]
    if response.status != 200 or not isinstance(response, HtmlResponse) or len(response.body) > 500_000:
        return None
    text = response.text
    visible = _TAGS.sub(" ", text)
    if len(visible.split()) > MAX_BLOCK_PAGE_WORDS:
        return None
    for reason, marker in _MARKERS.items():
        if marker.search(text):
            return reason
    return None
