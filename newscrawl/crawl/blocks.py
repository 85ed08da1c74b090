"""Block pages: 403/429 answers and pages that stand between us and the article (captcha, "enable
JavaScript", bot checks, consent walls). They are retried with backoff, counted
(``newscrawl/blocked/<reason>``) and never parsed as articles."""

from __future__ import annotations

import re

from scrapy.http import HtmlResponse, Response

BLOCK_STATUSES = {403: "http_403", 429: "http_429"}
#: each block reason: words one of which every match holds (lowercase), looked for first with
#: ``str.find`` so that a page with none of them (nearly every page) costs no regex scan, and the
#: pattern that decides
_MARKERS: dict[str, tuple[tuple[str, ...], re.Pattern[str]]] = {
    "captcha": (("captcha", "are you a ", "не робот"),
                re.compile(r"captcha|are you a (?:robot|human)|я не робот|не робот", re.I)),
    "bot_check": (("just a moment...", "checking your browser", "attention required", "cf-chl-",
                   "challenge-platform", "access denied", "ddos protection"),
                  re.compile(r"just a moment\.\.\.|checking your browser|attention required|cf-chl-"
                             r"|challenge-platform|access denied|ddos protection", re.I)),
    "javascript_required": (("enable javascript", "javascript is ", "увімкніть javascript", "включите javascript"),
                            re.compile(r"enable javascript|javascript is (?:disabled|required)"
                                       r"|увімкніть javascript|включите javascript", re.I)),
    "consent_wall": (("consent to ", "cookies to continue", "cookie wall"),
                     re.compile(r"consent to (?:continue|the use)|accept (?:all )?cookies to continue|cookie wall",
                                re.I)),
}
_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S | re.I)
#: a page with more visible words than this is content, whatever it mentions
MAX_BLOCK_PAGE_WORDS = 300
#: a block page is small (challenge scripts included): larger pages are never read for markers
MAX_BLOCK_PAGE_BYTES = 200_000
#: characters read for markers: a block page says what it is at its start (its head and first lines)
MARKER_CHARS = 32_000


def block_reason(response: Response) -> str | None:
    """Why ``response`` is a block page (``http_403``, ``captcha``, …), or None for a real page.

    Looks only where a block page can be: the status, the size, and the first ``MARKER_CHARS``
    characters of a small HTML page; only a page that has a marker there has its visible words
    counted (a long article may mention a captcha)."""
    if response.status in BLOCK_STATUSES:
        return BLOCK_STATUSES[response.status]
    if response.status != 200 or not isinstance(response, HtmlResponse) or len(response.body) > MAX_BLOCK_PAGE_BYTES:
        return None
    text = response.text
    start = text[:MARKER_CHARS]
    lowered = start.lower()
    reason = next((reason for reason, (cues, marker) in _MARKERS.items()
                   if any(cue in lowered for cue in cues) and marker.search(start)), None)
    if reason is None or len(_TAGS.sub(" ", text).split()) > MAX_BLOCK_PAGE_WORDS:
        return None
    return reason
