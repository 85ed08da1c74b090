"""Read ``<meta>`` tags (OpenGraph, ``article:*``, name=...) and ``<link>`` relations."""

from __future__ import annotations

from collections.abc import Iterable

from parsel import Selector


def read_meta(sel: Selector) -> dict[str, list[str]]:
    """All meta values keyed by lower-cased ``property``/``name``/``itemprop``, in page order."""
    found: dict[str, list[str]] = {}
    for node in sel.xpath("//meta[@content]"):
        key = node.root.get("property") or node.root.get("name") or node.root.get("itemprop")
        content = node.root.get("content").strip()
        if key and content:
            found.setdefault(key.strip().lower(), []).append(content)
    return found


def first(meta: dict[str, list[str]], *keys: str) -> str | None:
    """The first value present among ``keys``."""
    for key in keys:
        values = meta.get(key)
        if values:
            return values[0]
    return None


def all_values(meta: dict[str, list[str]], keys: Iterable[str]) -> list[str]:
    """Every value of ``keys``, key by key, in page order."""
    return [value for key in keys for value in meta.get(key, [])]


def canonical_link(sel: Selector) -> str | None:
    """The ``<link rel="canonical">`` href, if any."""
    return sel.xpath('//link[translate(@rel, "CANONICAL", "canonical")="canonical"]/@href').get()


def hreflang_alternates(sel: Selector) -> dict[str, str]:
    """``<link rel="alternate" hreflang="xx">`` as {language: url}; region suffixes dropped."""
    found: dict[str, str] = {}
    for node in sel.xpath('//link[@rel="alternate"][@hreflang][@href]'):
        lang = node.root.get("hreflang").strip().lower().split("-")[0]
        if lang and lang != "x" and lang not in found:
            found[lang] = node.root.get("href").strip()
    return found


def html_language(sel: Selector) -> str | None:
    """The two-letter language of ``<html lang>``, if declared."""
    lang = sel.xpath("/html/@lang").get()
    return lang.strip().lower().split("-")[0][:2] or None if lang else None
