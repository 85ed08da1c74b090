"""Command line: ``python -m newscrawl parse --url URL FILE`` prints one article as JSON."""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import sys
from datetime import datetime, timezone
from pathlib import Path

from w3lib.encoding import html_to_unicode

from newscrawl.dates import parse_date
from newscrawl.parser import NotAnArticle
from newscrawl.sites import parser_for_url

logger = logging.getLogger("newscrawl")


def _read_html(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return html_to_unicode(None, data)[1]


def cmd_parse(args: argparse.Namespace) -> int:
    """Parse one saved page with the parser of its URL's site; print the article as JSON."""
    try:
        html = _read_html(Path(args.file))
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    fetched_at = datetime.now(timezone.utc)
    if args.fetched_at:
        fetched_at = parse_date(args.fetched_at, tz="UTC")
        if fetched_at is None:
            print(f"error: --fetched-at {args.fetched_at!r} is not a plausible date", file=sys.stderr)
            return 1
    try:
        article = parser_for_url(args.url).parse(html, args.url, fetched_at=fetched_at)
    except NotAnArticle as exc:
        print(f"error: not an article: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(article.to_json_dict(), ensure_ascii=False, indent=2 if args.pretty else None))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m newscrawl``."""
    cli = argparse.ArgumentParser(prog="python -m newscrawl", description=__doc__)
    commands = cli.add_subparsers(dest="command", required=True)
    parse = commands.add_parser("parse", help="parse one saved page and print the article as JSON")
    parse.add_argument("file", help="saved HTML page (.html or .html.gz)")
    parse.add_argument("--url", required=True, help="the page's URL (chooses the site parser)")
    parse.add_argument("--fetched-at", help="when the page was fetched (ISO 8601; default now)")
    parse.add_argument("--pretty", action="store_true", help="indent the JSON")
    parse.set_defaults(run=cmd_parse)
    return cli


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
