"""Extraction speed: our per-site and generic parsers vs ``trafilatura.extract`` and newspaper4k.

Run: ``python bench/extraction_speed.py [--rounds 20] [--json FILE]``. The same saved pages for all:
the real regional captures with a site parser (Pravda, 24tv, Ukrinform, UNN, football.ua;
tests/files/regional) and the reconstructed UNIAN article. Single core, pages already in memory;
each extractor parses every page ``--rounds`` times. Not a test.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from w3lib.encoding import html_to_unicode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from newscrawl.extract.parser import GenericParser  # noqa: E402
from newscrawl.sites import parser_for_url  # noqa: E402

FILES = ROOT / "tests/files"
PAGES = {
    "regional/pravda_ru_2026-01-08.html": "https://www.pravda.com.ua/rus/articles/2026/01/08/8015225/",
    "regional/24tv_2020-09-21.html": "https://24tv.ua/yak-venediktova-zahishhala-nardepa-vid-slugi-narodu_n1419177",
    "regional/ukrinform_ru_2020-09-20.html":
        "https://www.ukrinform.ru/rubric-kyiv/3103218-policia-napravila-delo-minera-stolicnogo-metro-v-sud.html",
    "regional/unn_ru_2020-12-03.html": "https://www.unn.com.ua/ru/news/1906059-parlament-moldovi-z-podachi-dodona",
    "regional/football_ua_ru_2016-08-15.html": "https://football.ua/germany/311510-podolski-zavershil-kareru-v-sbornojj.html",
    "unian/article_en_2023-02-18_putin-belarus.reconstructed.html":
        "https://www.unian.info/world/putin-absorbs-belarusian-factories-to-strengthen-his-army-isw-12149817.html",
}
FETCHED = datetime(2026, 11, 1, tzinfo=timezone.utc)


def site_parsers(html: str, url: str) -> object:
    return parser_for_url(url).parse(html, url, fetched_at=FETCHED)


def generic(html: str, url: str) -> object:
    return GenericParser.parse(html, url, fetched_at=FETCHED)


def trafilatura_extract(html: str, url: str) -> object:
    import trafilatura

    return trafilatura.extract(html, url=url, with_metadata=True)


def newspaper4k(html: str, url: str) -> object:
    import newspaper

    article = newspaper.Article(url)
    article.download(input_html=html)
    article.parse()
    return article.text


def pages_per_second(extract: Callable[[str, str], object], pages: list[tuple[str, str]], rounds: int) -> float:
    extract(*pages[0])  # warm-up: imports, caches
    started = time.perf_counter()
    for _ in range(rounds):
        for html, url in pages:
            extract(html, url)
    return rounds * len(pages) / (time.perf_counter() - started)


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__)
    cli.add_argument("--rounds", type=int, default=20)
    cli.add_argument("--json", type=Path)
    args = cli.parse_args()
    warnings.filterwarnings("ignore")
    pages = [(html_to_unicode(None, (FILES / name).read_bytes())[1], url) for name, url in PAGES.items()]
    rates = {}
    for name, extract, rounds in (("newscrawl site parsers", site_parsers, args.rounds),
                                  ("newscrawl generic parser", generic, args.rounds),
                                  ("trafilatura.extract", trafilatura_extract, args.rounds),
                                  ("newspaper4k", newspaper4k, max(1, args.rounds // 10))):
        rates[name] = pages_per_second(extract, pages, rounds)
    baseline = rates["trafilatura.extract"]
    print(f"extraction, {len(pages)} saved pages, single core:")
    for name, rate in rates.items():
        print(f"  {name:26} {rate:8.1f} pages/s  ({rate / baseline:.2f}× trafilatura)")
    if args.json:
        args.json.write_text(json.dumps({"pages": len(pages), "pages_per_s": rates}))


if __name__ == "__main__":
    main()
