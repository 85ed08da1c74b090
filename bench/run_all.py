"""Run every benchmark in one go and write ``bench/RESULTS.md`` (and ``bench/stages.png``).

Run: ``python bench/run_all.py`` (needs ``pip install -r bench/requirements.txt``; Redis at
127.0.0.1:6379 for the duplicate-filter figures). ``--quick`` uses smaller sizes (minutes, not an
hour). Each benchmark measures its baseline in the same run, on the same input:

1. extraction (``extraction_speed.py``): site and generic parsers vs trafilatura and newspaper4k;
2. dates (``dates.py``): ``newscrawl.extract.dates`` vs ``dateparser.parse``, identical answers required;
3. crawl and memory (``crawl.py``): per kind of page (regional, generic), a bare Scrapy spider, the
   hand-written peer and the full pipeline into the embedded MongoDB, alternated on the same
   real-size local pages (its markdown tables go in as they are); peak RSS at two crawl sizes;
4. storage (``mongo_write.py``): the bulk writer vs ``insert_one``;
5. the Redis duplicate filter (``redis_dupefilter.py``);
6. revisits (``revisits.py``): the request cost of the default policy, and choosing the due
   articles among stored ones (a range on a number vs the same range on a date);
7. fuzzing (``fuzz.py``), when present.
Not a test.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(script: str, *args: str, json_out: Path | None = None) -> tuple[str, dict]:
    """Run one benchmark script; its output and (when it writes one) its JSON figures."""
    command = [sys.executable, str(HERE / script), *args] + (["--json", str(json_out)] if json_out else [])
    print(f"$ {' '.join(command[1:])}", flush=True)
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    output = (result.stdout + (f"\n(exit {result.returncode}) {result.stderr[-2000:]}" if result.returncode else "")).strip()
    print(output, flush=True)
    figures = json.loads(json_out.read_text(encoding="utf-8")) if json_out and json_out.exists() else {}
    return output, figures


def chart(rates: dict[str, float], path: Path) -> None:
    """A horizontal bar chart of pages/s per stage (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names, values = list(rates), list(rates.values())
    figure, axis = plt.subplots(figsize=(8, 0.5 * len(names) + 1.2))
    bars = axis.barh(names, values, color=["#2b6cb0" if "newscrawl" in n else "#a0aec0" for n in names])
    axis.set_xscale("log")
    axis.invert_yaxis()
    axis.set_xlabel("pages per second (log scale, one core for extraction)")
    axis.bar_label(bars, labels=[f"{v:,.1f}" for v in values], padding=3)
    axis.set_title("Pages per second by stage, measured in one run")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__)
    cli.add_argument("--quick", action="store_true", help="smaller sizes")
    cli.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    cli.add_argument("--size", action="append", default=[], metavar="NAME=VALUE",
                     help="override one size: crawl, memory (comma-separated), dates, fuzz, mongo, dedupe, redis, "
                          "revisits")
    args = cli.parse_args()
    sizes = {"crawl": "200", "memory": "2000,10000", "dates": "10000", "fuzz": "2000", "mongo": "2000",
             "dedupe": "20000", "redis": "200000", "revisits": "20000"} if args.quick else {
        "crawl": "1000", "memory": "10000,100000", "dates": "10000", "fuzz": "10000", "mongo": "5000",
        "dedupe": "100000", "redis": "1000000", "revisits": "100000"}
    sizes.update(dict(item.split("=", 1) for item in args.size))
    sections: list[tuple[str, str]] = []
    markdown: set[str] = set()  # sections whose output is markdown, not preformatted text
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        extraction, ex = run("extraction_speed.py", json_out=work / "extraction.json")
        extraction_title = "Extraction speed (goals: site parsers ≥ 5× trafilatura, generic parser ≥ 1.0×)"
        sections.append((extraction_title, extraction))
        if ex:
            markdown.add(extraction_title)
        dates, _ = run("dates.py", "--cases", sizes["dates"], json_out=work / "dates.json")
        sections.append(("Dates (goal: ≥ 50× dateparser on a mix with relative and year-less strings, 0 wrong)", dates))
        crawl, cr = run("crawl.py", "--pages", sizes["crawl"], "--memory-pages", sizes["memory"],
                        json_out=work / "crawl.json")
        crawl_title = ("Crawl per kind of page and memory (goals: regional pages ≥ 40% of bare Scrapy's pages/s, ≥ 1.8× "
                       "the hand-written peer, CPU per stored page ≤ 1.2× the peer's; generic pages ≥ 1.5× the peer; "
                       "≤ 0.5 database commands per article; peak RSS growth ≤ 50 MB from 10k to 100k pages)")
        sections.append((crawl_title, crawl))
        if cr:  # the table; a failed run's output stays preformatted
            markdown.add(crawl_title)
        storage, _ = run("mongo_write.py", "--items", sizes["mongo"], "--dedupe-items", sizes["dedupe"])
        sections.append(("Storage: bulk writer vs insert_one (embedded nx-27017)", storage))
        redis, _ = run("redis_dupefilter.py", "--urls", sizes["redis"])
        sections.append(("Redis duplicate filter", redis))
        revisits, _ = run("revisits.py", "--articles", sizes["revisits"])
        sections.append(("Revisits: request cost of the default policy, due selection (embedded nx-27017)", revisits))
        if (HERE / "fuzz.py").exists():
            fuzz, _ = run("fuzz.py", "--cases", sizes["fuzz"])
            sections.append(("Fuzzing (mutated real pages, random strings)", fuzz))
    crawled = {f"{title} ({kind} pages, local)": figures["pages_per_s"].get(name, 0)
               for kind, figures in cr.get("kinds", {}).items()
               for name, title in (("bare", "bare Scrapy fetch"), ("peer", "hand-written peer"), ("full", "newscrawl full crawl"))}
    rates = {**crawled, **{name: rate for name, rate in ex.get("pages_per_s", {}).items()}}
    picture = HERE / "stages.png"
    chart({name: rate for name, rate in rates.items() if rate}, picture)
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"# Benchmark results ({when}; sizes: {', '.join(f'{k} {v}' for k, v in sizes.items())})", "",
             "Produced by `python bench/run_all.py`; every ratio compares against a baseline measured in the "
             "same run on the same input, on this machine (2 cores, embedded nx-27017, Redis 7).", "",
             f"![pages per second by stage]({picture.name})", ""]
    for title, output in sections:
        lines += [f"## {title}", "", output, ""] if title in markdown else [f"## {title}", "", "```", output, "```", ""]
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.out} and {picture}")


if __name__ == "__main__":
    main()
