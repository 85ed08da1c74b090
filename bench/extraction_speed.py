"""Extraction speed: our per-site and generic parsers vs ``trafilatura.extract`` and newspaper4k.

Run: ``python bench/extraction_speed.py [--repeats 3] [--rounds 5] [--fundus 60] [--dates 100]
[--newspaper] [--json FILE]``. Three sets of saved pages, already in memory, one core:

- ``regional``: the real regional captures with a site parser (Pravda, 24tv, Ukrinform, UNN,
  football.ua; tests/files/regional) and the reconstructed UNIAN article: site parsers, the
  generic parser, ``trafilatura.extract(with_metadata=True)``, plain ``trafilatura.extract(html)`` (the
  call a hand-written spider makes: body only, no metadata), and newspaper4k with ``--newspaper``;
- ``fundus``: the first ``--fundus`` Fundus pages (../shared/fixtures/fundus, 41 countries): the
  generic parser vs both trafilatura calls;
- ``dates``: ``--dates`` pages of the dates development set (../shared/fixtures/dates-dev, evenly
  spread over its files sorted by name): blogs, institutions and shops as well as news sites, from
  many countries: the generic parser vs both trafilatura calls.

Each extractor parses every page of a set ``--rounds`` times; that is one measurement, in CPU
seconds of this process (a busy machine slows the wall clock, not the CPU time). The extractors are
alternated, in a rotated order, ``--repeats`` times; the table gives pages per CPU second
(min/median/max) and each extractor's ratio, within each repeat (min/median/max), to trafilatura with
metadata and to plain trafilatura.
Not a test.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from newscrawl.extract.encoding import decoded_text  # noqa: E402
from newscrawl.extract.parser import GenericParser  # noqa: E402
from newscrawl.sites import parser_for_url  # noqa: E402

FILES = ROOT / "tests/files"
SITES = ROOT / "tests/sites"
FUNDUS = ROOT.parent / "shared/fixtures/fundus"
DATES = ROOT.parent / "shared/fixtures/dates-dev"
#: the pages (under tests/files, else a path of their own) and the URL each was published at
REGIONAL = {
    "regional/pravda_ru_2026-01-08.html": "https://www.pravda.com.ua/rus/articles/2026/01/08/8015225/",
    "regional/24tv_2020-09-21.html": "https://24tv.ua/yak-venediktova-zahishhala-nardepa-vid-slugi-narodu_n1419177",
    "regional/ukrinform_ru_2020-09-20.html":
        "https://www.ukrinform.ru/rubric-kyiv/3103218-policia-napravila-delo-minera-stolicnogo-metro-v-sud.html",
    "regional/unn_ru_2020-12-03.html": "https://www.unn.com.ua/ru/news/1906059-parlament-moldovi-z-podachi-dodona",
    "regional/football_ua_ru_2016-08-15.html": "https://football.ua/germany/311510-podolski-zavershil-kareru-v-sbornojj.html",
    SITES / "unian/en-putin-belarus_2023-02-18.reconstructed.html.gz":
        "https://www.unian.info/world/putin-absorbs-belarusian-factories-to-strengthen-his-army-isw-12149817.html",
}
FETCHED = datetime(2026, 11, 1, tzinfo=timezone.utc)
BASELINE = "trafilatura.extract(with_metadata=True)"
PLAIN = "trafilatura.extract(html)"
Pages = list[tuple[str, str]]
Extractor = Callable[[str, str], object]


def site_parsers(html: str, url: str) -> object:
    return parser_for_url(url).parse(html, url, fetched_at=FETCHED)


def generic(html: str, url: str) -> object:
    return GenericParser.parse(html, url, fetched_at=FETCHED)


def trafilatura_extract(html: str, url: str) -> object:
    import trafilatura

    return trafilatura.extract(html, url=url, with_metadata=True)


def trafilatura_plain(html: str, url: str) -> object:
    import trafilatura

    return trafilatura.extract(html)


def newspaper4k(html: str, url: str) -> object:
    import newspaper

    article = newspaper.Article(url)
    article.download(input_html=html)
    article.parse()
    return article.text


def regional_pages() -> Pages:
    return [(decoded_text(saved_bytes(FILES / page)), url) for page, url in REGIONAL.items()]


def saved_bytes(path: Path) -> bytes:
    """A saved page's bytes (a gzipped site fixture page unpacked)."""
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def fundus_pages(count: int) -> Pages:
    """The first ``count`` pages of the Fundus manifest."""
    pages = []
    for line in (FUNDUS / "manifest.jsonl").read_text(encoding="utf-8").splitlines()[:count]:
        entry = json.loads(line)
        pages.append((decoded_text(gzip.decompress((FUNDUS / entry["html"]).read_bytes())), entry["url"]))
    return pages


def dates_pages(count: int) -> Pages:
    """``count`` pages of the dates development set, evenly spread over its files sorted by name."""
    expected = json.loads((DATES / "expected.json").read_text(encoding="utf-8"))
    entries = sorted(((known["file"], url) for url, known in expected.items()))
    step = max(1, len(entries) // count)
    return [(decoded_text(gzip.decompress((DATES / name).read_bytes())), url) for name, url in entries[::step][:count]]


def cpu_rate(extract: Extractor, pages: Pages, rounds: int) -> float:
    """Pages per CPU second of this process over ``rounds`` passes of ``pages``."""
    started = time.process_time()
    for _ in range(rounds):
        for html, url in pages:
            extract(html, url)
    return rounds * len(pages) / (time.process_time() - started)


def measure(extractors: dict[str, tuple[Extractor, int]], pages: Pages, repeats: int) -> dict[str, list[float]]:
    """Rates per extractor, one per repeat; the order rotates each repeat."""
    for extract, _ in extractors.values():
        for page in pages:  # warm-up: imports, caches (dateparser compiles a language's rules on first use)
            extract(*page)
    names = list(extractors)
    rates: dict[str, list[float]] = {name: [] for name in names}
    for repeat in range(repeats):
        for name in names[repeat % len(names):] + names[: repeat % len(names)]:
            extract, rounds = extractors[name]
            rates[name].append(cpu_rate(extract, pages, rounds))
    return rates


def _spread(values: list[float], unit: str = "") -> str:
    return f"{min(values):,.2f}{unit} / {statistics.median(values):,.2f}{unit} / {max(values):,.2f}{unit}"


def table(title: str, pages: Pages, rates: dict[str, list[float]]) -> list[str]:
    lines = [f"{title} ({len(pages)} pages, one core, pages per CPU second)", "",
             "| extractor | pages/s min / median / max | × trafilatura with metadata min / median / max "
             "| × plain trafilatura min / median / max |", "|---|---|---|---|"]
    for name, values in rates.items():
        ratios = [_spread([value / base for value, base in zip(values, rates[baseline])], "×") for baseline in (BASELINE, PLAIN)]
        lines.append(f"| {name} | {_spread(values)} | {' | '.join(ratios)} |")
    return [*lines, ""]


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__)
    cli.add_argument("--repeats", type=int, default=3)
    cli.add_argument("--rounds", type=int, default=5, help="passes over a set per measurement")
    cli.add_argument("--fundus", type=int, default=60, help="Fundus pages in the second set (0: none)")
    cli.add_argument("--dates", type=int, default=100,
                     help="pages of the dates development set in the third set (0: none)")
    cli.add_argument("--newspaper", action="store_true", help="also newspaper4k on the regional set (slow)")
    cli.add_argument("--json", type=Path)
    args = cli.parse_args()
    warnings.filterwarnings("ignore")
    regional = regional_pages()
    extractors: dict[str, tuple[Extractor, int]] = {
        "newscrawl site parsers": (site_parsers, args.rounds), "newscrawl generic parser": (generic, args.rounds),
        BASELINE: (trafilatura_extract, args.rounds), PLAIN: (trafilatura_plain, args.rounds)}
    if args.newspaper:
        extractors["newspaper4k"] = (newspaper4k, max(1, args.rounds // 5))
    results = {"regional": measure(extractors, regional, args.repeats)}
    generic_against_trafilatura: dict[str, tuple[Extractor, int]] = {
        "newscrawl generic parser": (generic, 1), BASELINE: (trafilatura_extract, 1), PLAIN: (trafilatura_plain, 1)}
    lines = table("Regional pages", regional, results["regional"])
    if args.fundus:
        fundus = fundus_pages(args.fundus)
        results["fundus"] = measure(generic_against_trafilatura, fundus, args.repeats)
        lines += table("Fundus pages", fundus, results["fundus"])
    if args.dates:
        dates = dates_pages(args.dates)
        results["dates"] = measure(generic_against_trafilatura, dates, args.repeats)
        lines += table("Dates development set pages", dates, results["dates"])
    print("\n".join(lines).rstrip())
    if args.json:
        medians = {name: statistics.median(values) for name, values in results["regional"].items()}
        args.json.write_text(json.dumps({"pages": len(regional), "pages_per_s": medians, "rates": results}))


if __name__ == "__main__":
    main()
