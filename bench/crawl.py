"""Crawl benchmark: the full newscrawl path vs a bare Scrapy spider fetching the same pages.

Run: ``python bench/crawl.py [--pages 10000] [--memory-pages 10000,100000]`` (``--pages 0``: the
memory runs only). A local threaded
HTTP server serves listing pages of 100 links and generated variations of the UNIAN article page
(tests/variations.py: the real seed text's words in the documented markup). Each crawl is one
``scrapy runspider`` process against the same pages:

- **newscrawl**: the UNIAN parser, validate, dedupe and the storage pipelines into a fresh embedded
  MongoDB (nx-27017), incremental checks on;
- **bare**: Scrapy with the same download settings, callbacks that parse nothing and store nothing.

Prints pages/s of both and the ratio, and the peak RSS (the kernel's ``VmHWM`` of the crawler
process) of newscrawl runs of each ``--memory-pages`` size. ``--json FILE`` writes the figures for ``bench/run_all.py``.
Not a test.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from localsite import QuietHandler, crawl_env, serving, write_local_spider  # noqa: E402
from variations import article_page  # noqa: E402

from newscrawl.store.server import EmbeddedServer  # noqa: E402

PER_LISTING = 100
BARE_SPIDER = '''
import scrapy


class BareSpider(scrapy.Spider):
    name = "bench_bare"
    start_urls = ["{base}/list?page=%d" % n for n in range(1, {listings} + 1)]

    def parse(self, response):
        for href in response.css("a::attr(href)").getall():
            yield response.follow(href, self.parse_article)

    def parse_article(self, response):
        return None
'''


class Site(QuietHandler):
    """Listing pages of 100 links; article pages rendered once and cached."""

    cache: dict[int, bytes] = {}
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if match := re.fullmatch(r"/list\?page=(\d+)", self.path):
            first = (int(match.group(1)) - 1) * PER_LISTING
            links = "".join(f'<a href="/world/generated-story-number-{n}-{13000000 + n}.html">s</a>'
                            for n in range(first, first + PER_LISTING))
            data = f"<html><body>{links}</body></html>".encode()
        elif match := re.fullmatch(r"/world/generated-story-number-(\d+)-\d+\.html", self.path):
            number = int(match.group(1))
            data = Site.cache.get(number) or Site.cache.setdefault(number, article_page(number).encode())
        else:
            self.send_error(404)
            return
        self.reply(200, data)


def stats_of(log: Path) -> dict[str, float]:
    """Numbers in the final stats dump of a Scrapy log."""
    text = log.read_text(encoding="utf-8")
    dump = text[text.rindex("Dumping Scrapy stats"):]
    return {key: float(value) for key, value in re.findall(r"'([\w/.-]+)': (\d+(?:\.\d+)?)", dump)}


def crawl(module: Path, pages: int, work: Path, mongo_uri: str, *, bare: bool) -> dict[str, float]:
    """Run one crawl of ``pages`` article pages; its stats."""
    log = work / f"{module.stem}-{pages}.log"
    env = crawl_env(work, mongo_uri, f"bench_{module.stem}_{pages}", PYTHONPATH=str(ROOT),
                    SCRAPY_SETTINGS_MODULE="newscrawl.settings", NEWSCRAWL_PLAYWRIGHT="0")
    settings: dict[str, object] = {
        "LOG_FILE": log, "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS": 16,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 16, "ROBOTSTXT_OBEY": False, "NEWSCRAWL_LISTING_PAGES": pages // PER_LISTING,
        "NEWSCRAWL_SITEMAPS": 0,
    }
    if bare:  # Scrapy as it comes: no pipelines, extensions or newscrawl middlewares
        settings.update(ITEM_PIPELINES="{}", EXTENSIONS="{}", SPIDER_MIDDLEWARES="{}", ADDONS="{}",
                        DOWNLOADER_MIDDLEWARES="{}", TWISTED_DNS_RESOLVER="scrapy.resolver.CachingThreadedResolver")
    args = [sys.executable, "-m", "scrapy", "runspider", str(module)]
    for name, value in settings.items():
        args += ["-s", f"{name}={value}"]
    process = subprocess.Popen(args, cwd=ROOT, env=env)
    memory = watch_memory(process, log)
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, args)
    return {**stats_of(log), **memory}


def watch_memory(process: subprocess.Popen[bytes], log: Path, every: float = 1.0) -> dict[str, float]:
    """Sample the crawl's memory from /proc until it exits; print a line a minute.

    Scrapy's ``memusage/*`` stats read ``ru_maxrss``, which a process started from this one
    inherits (this process holds every page it serves), so they overstate a crawl's memory; the
    kernel's ``VmHWM`` (peak) and ``VmRSS`` of the crawler itself do not.
    """
    status = Path(f"/proc/{process.pid}/status")
    started = time.monotonic()
    peak = startup = 0.0
    next_report = 60.0
    while process.poll() is None:
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            break
        rss, peak = kib_to_mb(fields.get("VmRSS")), max(peak, kib_to_mb(fields.get("VmHWM")))
        elapsed = time.monotonic() - started
        startup = startup or (rss if log.exists() and "Spider opened" in log.read_text(encoding="utf-8") else 0.0)
        if elapsed >= next_report:
            crawled = re.findall(r"Crawled (\d+) pages", log.read_text(encoding="utf-8")) if log.exists() else []
            print(f"  {elapsed:5.0f} s: {crawled[-1] if crawled else 0} pages, RSS {rss:,.0f} MB, peak {peak:,.0f} MB", flush=True)
            next_report += 60.0
        time.sleep(every)
    process.wait()
    return {"rss/peak_mb": peak, "rss/startup_mb": startup}


def kib_to_mb(value: str | None) -> float:
    """``"123456 kB"`` (a /proc status field) in MB."""
    return int(value.split()[0]) / 1024 if value else 0.0


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__)
    cli.add_argument("--pages", type=int, default=10_000)
    cli.add_argument("--memory-pages", default="10000,100000", help="comma-separated crawl sizes for peak RSS")
    cli.add_argument("--json", type=Path, help="write the figures here")
    args = cli.parse_args()
    results: dict[str, object] = {"pages": args.pages}
    with tempfile.TemporaryDirectory() as tmp, serving(Site) as base:
        work = Path(tmp)
        mongo = EmbeddedServer.start(work / "mongo")
        try:
            biggest = max([args.pages, *(int(n) for n in args.memory_pages.split(",") if n)])
            full = write_local_spider(work / "full_spider.py", name="bench_full", base=base,
                                      article_pattern=r"/world/generated-story-number-\d+-(?P<id>\d+)\.html$",
                                      listing_path="/list?page={page}")
            bare = work / "bare_spider.py"
            bare.write_text(BARE_SPIDER.format(base=base, listings=args.pages // PER_LISTING), encoding="utf-8")
            for n in range(biggest):  # render every page before timing anything
                Site.cache.setdefault(n, article_page(n).encode())
            full_stats: dict[str, float] = {}
            if args.pages:
                bare_stats = crawl(bare, args.pages, work, mongo.uri, bare=True)
                full_stats = crawl(full, args.pages, work, mongo.uri, bare=False)
                rate = {name: stats["response_received_count"] / stats["elapsed_time_seconds"]
                        for name, stats in (("bare", bare_stats), ("newscrawl", full_stats))}
                results.update(bare_pages_per_s=rate["bare"], newscrawl_pages_per_s=rate["newscrawl"],
                               ratio=rate["newscrawl"] / rate["bare"], stored=full_stats.get("newscrawl/mongo/inserted", 0))
                print(f"crawl of {args.pages:,} article pages: bare Scrapy {rate['bare']:,.0f} pages/s, newscrawl "
                      f"{rate['newscrawl']:,.0f} pages/s ({results['ratio']:.0%} of bare), "
                      f"{results['stored']:,.0f} articles stored")
            memory = {}
            for size in (int(n) for n in args.memory_pages.split(",") if n):
                stats = full_stats if size == args.pages else crawl(full, size, work, mongo.uri, bare=False)
                memory[size] = stats["rss/peak_mb"]
                rate = stats["response_received_count"] / stats["elapsed_time_seconds"]
                print(f"newscrawl crawl of {size:,} pages: peak RSS {memory[size]:,.0f} MB "
                      f"(RSS when the spider opened {stats['rss/startup_mb']:,.0f} MB), {rate:,.0f} pages/s, "
                      f"{stats.get('newscrawl/mongo/inserted', 0):,.0f} articles stored")
            results["peak_rss_mb"] = memory
        finally:
            mongo.stop()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
