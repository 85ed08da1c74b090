"""The local news site of ``bench/crawl.py``: real-size article pages under many URLs, none a duplicate.

Templates are the real article captures of ``tests/sites/`` (one per site with a site parser;
reconstructed pages and excerpts left out) and the Fundus pages of ``tests/files/fundus/`` (read by
the generic parser). Article ``n`` is template ``n % len(templates)`` served at
``/<site>/<language>/story-<n>.html`` (``/generic/<page>/story-<n>.html`` for Fundus pages) with
the words of its body redrawn: every text node that is part of the body the project's parser
extracts from the template has each word replaced by one drawn from that body's words, with
``random.Random(path)``, so the same path is always the same page and no two bodies share their
word 3-shingles (SimHashes lie ~32 bits apart, not within the dedupe's 3). Titles, dates, bylines
and the rest of the markup are the template's, so each variant parses as its template does, but
its canonical link and ``og:url`` give its own path.
Listing pages ``/list?page=<k>`` link articles ``100(k-1) .. 100k-1``.

Run as a process of its own: ``python bench/crawl_pages.py --kind KIND --prerender N`` (``KIND``:
``regional``, ``generic`` or ``all``: which templates the site serves) renders and gzips
articles ``0..N-1`` (later ones are rendered on request), starts a threaded HTTP/1.1 server on
127.0.0.1 and, when it is ready, prints one JSON line: its base URL and the templates (path, size).
Pages are sent gzipped when the client accepts it, with the template's fetch time as ``Date`` (so
dates read as in the fixture tests).
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import random
import re
import sys
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from functools import cached_property
from pathlib import Path

import lxml.html

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from localsite import QuietHandler, QuietServer  # noqa: E402

from newscrawl.extract.encoding import decoded_text  # noqa: E402
from newscrawl.extract.parser import GenericParser  # noqa: E402
from newscrawl.ops.site_fixtures import discover  # noqa: E402
from newscrawl.sites import parser_for_url  # noqa: E402

FUNDUS_DIR = ROOT / "tests" / "files" / "fundus"
PER_LISTING = 100
#: what the URL scheme calls the pages the generic parser reads
GENERIC = "generic"
_WORD = re.compile(r"([^\W\d_]+)")
_SPACE = re.compile(r"\s+")
_SLOT = re.compile("\ue000(\\d+)\ue001")
#: where the page's own address goes (its canonical link and ``og:url``)
_OWN_PATH = "/bench-own-path/"
#: a text node shorter than this (in words) is left as it is
MIN_WORDS = 3


def _flat(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


@dataclass(frozen=True)
class Template:
    """One saved page: where its variants live, its markup, and the fetch time it is served with."""

    path: str
    page: str
    served_at: datetime | None
    body: str

    @cached_property
    def _slotted(self) -> tuple[list[str], list[list[str]], list[str]]:
        """The page cut around its body's text nodes: static parts, each node's tokens (odd
        positions are words), and the body's words (the pool new words are drawn from)."""
        body = _flat(self.body)
        document = lxml.html.document_fromstring(self.page)
        slots: list[list[str]] = []

        def slot(text: str | None) -> str | None:
            flat = _flat(text or "")
            if len(_WORD.findall(flat)) < MIN_WORDS or flat not in body:
                return text
            slots.append(_WORD.split(text or ""))
            return f"\ue000{len(slots) - 1}\ue001"

        for element in document.iter():
            if isinstance(element.tag, str) and element.tag not in ("script", "style", "title"):
                element.text = slot(element.text)
            element.tail = slot(element.tail)
        for link in document.xpath("//link[contains(@rel, 'canonical')] | //meta[@property='og:url']"):
            link.set("href" if link.tag == "link" else "content", _OWN_PATH)
        markup = "<!DOCTYPE html>\n" + lxml.html.tostring(document, encoding="unicode")
        return _SLOT.split(markup), slots, _WORD.findall(body)

    def render(self, path: str) -> str:
        """The variant served at ``path``: the same every time."""
        parts, slots, words = self._slotted
        draw = random.Random(path).choice
        out = parts[:]
        for position in range(1, len(parts), 2):
            tokens = slots[int(parts[position])][:]
            tokens[1::2] = [draw(words) for _ in tokens[1::2]]
            out[position] = html.escape("".join(tokens), quote=False)
        return "".join(out).replace(_OWN_PATH, path)

    def redrawn_share(self) -> float:
        """Share of the body's words that sit in redrawn text nodes."""
        _, slots, words = self._slotted
        return sum(len(tokens) // 2 for tokens in slots) / max(1, len(words))


#: the kinds of page the site can serve: read by the site parsers, by the generic parser, or both
KINDS = ("regional", GENERIC, "all")


def templates(kind: str) -> list[Template]:
    """The regional captures (site parsers), then the Fundus pages (generic parser); ``kind`` keeps one of them."""
    found = []
    for fixture in discover() if kind != GENERIC else ():
        if ".reconstructed" in fixture.page_path.name or ".excerpt" in fixture.page_path.name:
            continue
        page = fixture.html()
        body = parser_for_url(fixture.url).parse(page, fixture.url, fetched_at=fixture.fetched_at).body or ""
        found.append(Template(f"{fixture.site}/{fixture.data['expected']['language']}", page, fixture.fetched_at, body))
    for saved in sorted(FUNDUS_DIR.glob("*.html.gz")) if kind != "regional" else ():
        path = f"{GENERIC}/{saved.name.removesuffix('.html.gz')}"
        page = decoded_text(gzip.decompress(saved.read_bytes()))
        body = GenericParser.parse(page, f"http://127.0.0.1/{path}/story-0.html").body or ""
        found.append(Template(path, page, None, body))
    return found


def article_path(number: int, count: int, all_templates: list[Template]) -> str:
    """The path of article ``number`` (``count``: how many templates)."""
    return f"/{all_templates[number % count].path}/story-{number}.html"


class TemplatedPages(QuietHandler):
    """Listing pages and article pages; gzipped pages kept for the articles rendered in advance."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms wait for the client's ACK
    pages: list[Template] = []
    rendered: dict[str, bytes] = {}
    served_at: datetime | None = None
    _article = re.compile(r"/([\w-]+/[\w-]+)/story-(\d+)\.html")

    @classmethod
    def prerender(cls, count: int) -> None:
        """Render and gzip articles ``0..count-1``."""
        for number in range(count):
            path = article_path(number, len(cls.pages), cls.pages)
            cls.rendered[path] = gzip.compress(cls.template(number).render(path).encode(), compresslevel=6)

    @classmethod
    def template(cls, number: int) -> Template:
        return cls.pages[number % len(cls.pages)]

    def do_GET(self) -> None:
        if match := re.fullmatch(r"/list\?page=(\d+)", self.path):
            first = (int(match.group(1)) - 1) * PER_LISTING
            links = "".join(f'<li><a href="{article_path(n, len(self.pages), self.pages)}">Story {n}</a></li>'
                            for n in range(first, first + PER_LISTING))
            self.reply(200, f"<!DOCTYPE html><html><body><ul>{links}</ul></body></html>".encode())
            return
        match = self._article.fullmatch(self.path)
        number = int(match.group(2)) if match else -1
        if not match or self.template(number).path != match.group(1):
            self.send_error(404)
            return
        template = self.template(number)
        self.served_at = template.served_at
        page = self.rendered.get(self.path) or gzip.compress(template.render(self.path).encode(), compresslevel=6)
        if "gzip" in self.headers.get("Accept-Encoding", ""):
            self.reply(200, page, Content_Encoding="gzip")
        else:
            self.reply(200, gzip.decompress(page))

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header: the template's fetch time for an article page that has one."""
        served_at, self.served_at = self.served_at, None
        return format_datetime(served_at, usegmt=True) if served_at else super().date_time_string(timestamp)


class PageServer(QuietServer):
    """The threaded server, with a listen backlog for every connection a crawl opens at once (with
    the default 5, the 6th to 16th connect only when their SYN is sent again, a second later)."""

    request_queue_size = 128


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__)
    cli.add_argument("--prerender", type=int, default=0, help="render articles 0..N-1 before serving")
    cli.add_argument("--kind", choices=KINDS, default="all", help="the pages served: their kind of parser")
    args = cli.parse_args()
    TemplatedPages.pages = templates(args.kind)
    TemplatedPages.prerender(args.prerender)
    server = PageServer(("127.0.0.1", 0), TemplatedPages)
    templates_served = [{"path": t.path, "bytes": len(t.render(f"/{t.path}/story-0.html").encode())}
                        for t in TemplatedPages.pages]
    print(json.dumps({"base": f"http://127.0.0.1:{server.server_address[1]}", "templates": templates_served}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
