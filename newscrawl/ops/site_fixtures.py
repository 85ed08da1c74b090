"""Site fixtures: a saved article page and every field its site parser gives, for review and tests.

A fixture is two files in ``tests/sites/<site>/``: the page as fetched, gzipped
(``<slug>_<date>.html.gz``; reconstructed pages keep ``.reconstructed`` in the name), and
``<slug>_<date>.json``::

    {"url": …, "fetched_at": …, "note": "what a reviewer should know (not compared)",
     "expected": {every field of the article},
     "without_structured_data": {the fields that differ when the page's JSON-LD and <meta> are removed}}

The second expectation makes the site's own markup layer answer, as it must when a site drops its
structured data: a selector that JSON-LD shadows on the page as served is still checked.
``python -m newscrawl record`` writes fixtures; ``tests/test_site_fixtures.py`` checks them all.
"""

from __future__ import annotations

import difflib
import gzip
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from newscrawl.extract.encoding import decoded_text
from newscrawl.extract.items import PARSED_FIELDS, Article
from newscrawl.extract.parser import NotAnArticle
from newscrawl.sites import parser_for_url

#: where the fixtures live
SITES_DIR = Path(__file__).resolve().parents[2] / "tests" / "sites"
_STRUCTURED_DATA = re.compile(r"<script[^>]*application/ld\+json.*?</script>|<meta\b[^>]*>", re.S | re.I)
#: body diffs in failure messages: lines of context, lines shown at most
_DIFF_CONTEXT, _DIFF_LINES = 1, 24


def without_structured_data(html: str) -> str:
    """``html`` without its JSON-LD blocks and ``<meta>`` tags: only the markup is left to answer."""
    return _STRUCTURED_DATA.sub("", html)


#: the forms of a fixture page the parser is run on: the page as served (expectations under
#: ``expected``), and the others (differences from those under the variant's name)
VARIANTS: dict[str, Callable[[str], str]] = {"as_served": lambda html: html,
                                             "without_structured_data": without_structured_data}


def page_text(raw: bytes) -> str:
    """A saved page's bytes as text, decoded as a crawl without headers would."""
    return decoded_text(raw)


def article_fields(article: Article) -> dict[str, Any]:
    """The fields the parser gave ``article`` (dates ISO 8601 UTC), the parser named without the
    package version: what a fixture expects."""
    every = article.to_json_dict()
    fields = {name: every[name] for name in PARSED_FIELDS}
    fields["parser"] = (fields["parser"] or "").partition("@")[0]
    return fields


def parsed_fields(html: str, url: str, fetched_at: datetime) -> dict[str, Any]:
    """Every field the site parser for ``url`` gives for ``html`` (see :func:`article_fields`);
    ``{"not_an_article": message}`` when it finds no article."""
    try:
        article = parser_for_url(url).parse(html, url, fetched_at=fetched_at)
    except NotAnArticle as exc:
        return {"not_an_article": str(exc)}
    return article_fields(article)


@dataclass(frozen=True, eq=False)
class Fixture:
    """One saved page and what its parser must give."""

    json_path: Path
    data: dict[str, Any]

    @classmethod
    def load(cls, json_path: Path) -> Fixture:
        return cls(json_path, json.loads(json_path.read_text(encoding="utf-8")))

    @property
    def site(self) -> str:
        return self.json_path.parent.name

    @property
    def page_path(self) -> Path:
        return self.json_path.with_name(self.json_path.name.removesuffix(".json") + ".html.gz")

    @property
    def url(self) -> str:
        return self.data["url"]

    @property
    def fetched_at(self) -> datetime:
        return datetime.fromisoformat(self.data["fetched_at"])

    def html(self) -> str:
        return page_text(_gunzip(self.page_path.read_bytes()))

    def expected(self, variant: str) -> dict[str, Any]:
        """The full expectation for ``variant``: the page's, with the variant's differences applied."""
        expected = self.data["expected"]
        if variant == "as_served":
            return expected
        differences = self.data.get(variant, {})
        return differences if "not_an_article" in differences else {**expected, **differences}

    def parse(self, variant: str, html: str | None = None) -> dict[str, Any]:
        """The fields the parser gives now for ``variant`` of the page."""
        return parsed_fields(VARIANTS[variant](self.html() if html is None else html), self.url, self.fetched_at)


def discover(root: Path = SITES_DIR) -> list[Fixture]:
    """Every fixture under ``root`` (``<site>/*.json``), by path."""
    return [Fixture.load(path) for path in sorted(root.glob("*/*.json"))]


@dataclass(frozen=True)
class Mismatch:
    """A field whose value is not the expected one."""

    field: str
    expected: Any
    got: Any

    def describe(self) -> str:
        if isinstance(self.expected, str) and isinstance(self.got, str) and "\n" in self.expected + self.got:
            return f"{self.field}: differs\n{text_diff(self.expected, self.got)}"
        return f"{self.field}: expected {_short(self.expected)}, got {_short(self.got)}"


_MISSING = object()


def compare(expected: dict[str, Any], got: dict[str, Any], prefix: str = "") -> list[Mismatch]:
    """The fields whose values differ, in the order of ``got`` then ``expected``; a field the
    parser gives that the fixture lacks (or the reverse) differs too. Mappings (``layers``,
    ``translations``) are compared key by key: ``layers.body`` names the field whose layer changed."""
    found: list[Mismatch] = []
    for name in dict.fromkeys([*got, *expected]):
        want, have = expected.get(name, _MISSING), got.get(name, _MISSING)
        if want == have:
            continue
        if isinstance(want, dict) and isinstance(have, dict):
            found += compare(want, have, f"{prefix}{name}.")
        else:
            found.append(Mismatch(prefix + name, "<not in the fixture>" if want is _MISSING else want,
                                  "<not given>" if have is _MISSING else have))
    return found


def report(fixture: Fixture, variant: str, mismatches: list[Mismatch]) -> str:
    """A failure message naming the fixture, the variant and each field that differs."""
    shown = fixture.json_path
    if shown.is_relative_to(SITES_DIR.parents[1]):
        shown = shown.relative_to(SITES_DIR.parents[1])
    lines = [f"{shown} [{variant}]: {len(mismatches)} field(s) differ ({', '.join(m.field for m in mismatches)})"]
    lines += [m.describe() for m in mismatches]
    lines.append(f"If the change is intended, review it and re-record: python -m newscrawl record {shown}")
    return "\n".join(lines)


def text_diff(expected: str, got: str) -> str:
    """A unified diff of two texts by paragraph, shortened."""
    diff = list(difflib.unified_diff(expected.split("\n"), got.split("\n"), "expected", "got",
                                     n=_DIFF_CONTEXT, lineterm=""))
    shown = [line if len(line) <= 200 else line[:197] + "..." for line in diff[:_DIFF_LINES]]
    if len(diff) > _DIFF_LINES:
        shown.append(f"... {len(diff) - _DIFF_LINES} more diff lines")
    return "\n".join(shown)


def _short(value: Any, limit: int = 300) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def record(raw: bytes, url: str, fetched_at: datetime, json_path: Path, note: str = "") -> Fixture:
    """Write a fixture: ``raw`` gzipped beside ``json_path`` and the expectations the parser gives now.

    Raises :class:`~newscrawl.extract.parser.NotAnArticle`, writing nothing, when the page has no article.
    """
    html = page_text(raw)
    expected = parsed_fields(html, url, fetched_at)
    if "not_an_article" in expected:
        raise NotAnArticle(expected["not_an_article"])
    stripped = parsed_fields(without_structured_data(html), url, fetched_at)
    data = {
        "url": url,
        "fetched_at": fetched_at.isoformat(),
        "note": note,
        "expected": expected,
        "without_structured_data": {name: value for name, value in stripped.items()
                                    if expected.get(name, _MISSING) != value},
    }
    fixture = Fixture(json_path, data)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    fixture.page_path.write_bytes(gzip.compress(raw, mtime=0))
    json_path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return fixture


def fixture_name(url: str, published_at: str | None, fetched_at: datetime) -> str:
    """``<slug>_<date>``: the last part of the URL's path, cut at a hyphen to at most 48 characters,
    and the day published (else fetched), UTC."""
    path = [part for part in re.split(r"[/?#]", url.split("://", 1)[-1])[1:] if part]
    slug = re.sub(r"[^\w-]+", "-", re.sub(r"\.html?$", "", path[-1] if path else "home")).strip("-")
    if len(slug) > 48:
        slug = slug[:49].rsplit("-", 1)[0] if "-" in slug[:49] else slug[:48]
    day = (published_at or fetched_at.isoformat())[:10]
    return f"{slug or 'page'}_{day}"


def record_file(path: Path, *, url: str | None, fetched_at: datetime | None, site: str | None = None,
                name: str | None = None, note: str | None = None, root: Path = SITES_DIR) -> Fixture:
    """Record the page saved at ``path`` (``.html``, ``.html.gz``) as ``root/<site>/<name>.json``;
    or, for a fixture's ``.json``, record it again from its page, URL and fetch time (what is not
    given is kept). Raises ``ValueError`` for a page without ``url``, ``OSError`` for one unreadable."""
    if path.suffix == ".json":
        old = Fixture.load(path)
        return record(_gunzip(old.page_path.read_bytes()), url or old.url, fetched_at or old.fetched_at,
                      path, note if note is not None else old.data.get("note", ""))
    if not url:
        raise ValueError("give the page's --url")
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = _gunzip(raw)
    fetched_at = fetched_at or datetime.now(timezone.utc)
    fields = parsed_fields(page_text(raw), url, fetched_at)
    stem = name or fixture_name(url, fields.get("published_at"), fetched_at)
    return record(raw, url, fetched_at, root / (site or fields.get("site") or "generic") / f"{stem}.json", note or "")


def _gunzip(data: bytes) -> bytes:
    """``data`` decompressed; a cut-off gzip file is an ``OSError`` like a damaged one."""
    try:
        return gzip.decompress(data)
    except EOFError as exc:
        raise OSError(f"not a whole gzip file: {exc}") from exc
