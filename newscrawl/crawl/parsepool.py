"""Article pages parsed in worker processes, so a crawl or a replay uses every core and the reactor
never waits for a parser.

``NEWSCRAWL_PARSE_WORKERS`` processes (default: the machine's cores; 0 parses in the crawler's own
process). What a worker does with a page is :func:`parse_page`, the same function the crawler runs
when it parses in-process: decode the bytes, parse with the site parser, and prepare the article
(:func:`~newscrawl.extract.clean.prepare`: its fields cleaned, its identity, its text's language
guessed, then sealed, so the clean and identity pipelines do none of it again for an article
nobody changed since). Only plain data crosses the
process boundary: the page (:class:`Page`), the parser by name (:class:`ParserRef`) and the outcome
(:class:`Parsed`: an article, the reason there is none, or a parser failure's traceback). What the
parser logs in a worker is sent back with the outcome and logged in the crawler, at
``LOG_LEVEL``.

Workers are forked from a *forkserver*: a clean process, started once, that has imported the parser
machinery (lxml, trafilatura, the date parsers) and nothing of the crawler. Forking the crawler
itself would copy its reactor, sockets and threads (pymongo's monitors, the DNS and database
threads) into every worker, lock states included; spawning would import the parser machinery anew
in every worker and again after every restart. Forked from the forkserver, a worker starts in
milliseconds and shares those modules' memory with its siblings.

A worker that dies (killed, or a page that crashes a C extension) breaks the whole executor: every
page in flight fails. The pool is then replaced (``newscrawl/parse_pool/restarted``) and those
pages are parsed again one at a time in a worker of their own (``newscrawl/parse_pool/reparsed``):
a page that kills that worker too is the culprit, and becomes a parse error; the others are parsed
as if nothing had happened. A page takes as long as the parser's bounds allow
(``NEWSCRAWL_PARSE_MAX_BYTES``). A crawler that dies without closing its pool (SIGKILL, out of
memory) takes its workers with it: each watches a pipe only the crawler can write to.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import logging
import multiprocessing
import os
import sys
import threading
import traceback
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING

from itemadapter import ItemAdapter

from newscrawl.defaults import default
from newscrawl.extract.encoding import decoded_text
from newscrawl.extract.clean import prepare
from newscrawl.extract.identity import MIN_WORDS
from newscrawl.extract.items import Article
from newscrawl.extract.parser import FeedHint, NotAnArticle, ParserProxy
from newscrawl.stats import PARSE_POOL_PARSED, PARSE_POOL_REPARSED, PARSE_POOL_RESTARTED, PARSE_POOL_WORKERS

if TYPE_CHECKING:
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

#: what the forkserver imports once, for every worker it forks
PRELOAD = [__name__]


@dataclass(frozen=True)
class ParserRef:
    """A parser class by name, as a worker finds it: its module's name, and its file for a module
    imported from a path rather than by name (``scrapy runspider`` loads spider files so)."""

    module: str
    qualname: str
    path: str | None = None

    @classmethod
    def of(cls, parser: type[ParserProxy]) -> ParserRef:
        """The reference of ``parser``; ValueError for a class no other process can find (defined
        in a function or in ``__main__``)."""
        if "<locals>" in parser.__qualname__ or parser.__module__ == "__main__":
            raise ValueError(f"{parser.__module__}.{parser.__qualname__} cannot be imported by another process")
        module = sys.modules.get(parser.__module__)
        return cls(parser.__module__, parser.__qualname__, getattr(module, "__file__", None))

    def resolve(self) -> type[ParserProxy]:
        """The class: its module imported by name, else loaded from its file."""
        try:
            module = importlib.import_module(self.module)
        except ModuleNotFoundError as missing:
            if missing.name != self.module or self.path is None:
                raise
            spec = importlib.util.spec_from_file_location(self.module, self.path)
            if spec is None or spec.loader is None:
                raise
            module = importlib.util.module_from_spec(spec)
            sys.modules[self.module] = module
            spec.loader.exec_module(module)
        found: object = module
        for name in self.qualname.split("."):
            found = getattr(found, name)
        assert isinstance(found, type) and issubclass(found, ParserProxy), f"{self} is not a parser"
        return found


@dataclass
class Page:
    """One fetched article page and what parsing it needs."""

    url: str
    body: bytes
    #: the charset the page came with (Scrapy's ``response.encoding``)
    encoding: str | None
    fetched_at: datetime
    hint: FeedHint | None = None
    max_bytes: int = default("NEWSCRAWL_PARSE_MAX_BYTES")
    #: texts shorter than this get no SimHash (``NEWSCRAWL_DEDUPE_MIN_WORDS``)
    min_words: int = MIN_WORDS
    #: whether the clean pipeline checks the text's language (``NEWSCRAWL_CHECK_LANGUAGE``): it is guessed here
    guess_language: bool = default("NEWSCRAWL_CHECK_LANGUAGE")


@dataclass
class Parsed:
    """What parsing a page gave: an article, the reason the page holds none, or the traceback of
    the parser's failure; and what was logged meanwhile in a worker (logger, level, message)."""

    article: Article | None = None
    not_article: str | None = None
    error: str | None = None
    logs: list[tuple[str, int, str]] = field(default_factory=list)


def parse_page(parser: type[ParserProxy], page: Page) -> Parsed:
    """Decode and parse one page, and prepare its article: cleaned, identified, its language
    guessed, sealed (in a worker or in the crawler's process)."""
    try:
        article = parser.parse(decoded_text(page.body, page.encoding), page.url, fetched_at=page.fetched_at,
                               hint=page.hint, max_bytes=page.max_bytes)
        prepare(article, ItemAdapter(article), min_words=page.min_words, guess=page.guess_language)
    except NotAnArticle as exc:
        return Parsed(not_article=str(exc))
    except Exception:
        return Parsed(error=traceback.format_exc())
    return Parsed(article=article)


class _LogCapture(logging.Handler):
    """A worker's root handler: keeps the records of the page being parsed, to send back."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(message)s"))
        self.records: list[tuple[str, int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.name, record.levelno, self.format(record)))


_capture = _LogCapture()


def _start_worker(log_level: int, lifeline: Connection) -> None:
    """A worker's initializer: its log records are captured, from ``log_level`` up, and it ends
    when the crawler does."""
    root = logging.getLogger()
    root.handlers[:] = [_capture]
    root.setLevel(log_level)
    threading.Thread(target=_end_with_the_crawler, args=(lifeline,), name="lifeline", daemon=True).start()


def _end_with_the_crawler(lifeline: Connection) -> None:
    """Wait until the crawler's end of the pipe closes, then end the worker. A crawler killed
    outright (SIGKILL, out of memory) never shuts its pool down, and an idle worker would wait for
    pages for ever, and keep the forkserver, which holds on until its last worker is gone."""
    try:
        lifeline.recv_bytes()
    except EOFError:
        pass
    os._exit(1)


def _ready() -> int:
    """A task that only makes a worker start."""
    return os.getpid()


def _work(ref: ParserRef, page: Page) -> Parsed:
    """A worker's task: :func:`parse_page` with the parser found by name; what it logged goes with it."""
    _capture.records = []
    try:
        parsed = parse_page(_resolved(ref), page)
    except Exception:  # the parser could not be found: the page fails, the worker lives on
        parsed = Parsed(error=traceback.format_exc())
    parsed.logs = _capture.records
    return parsed


@cache
def _resolved(ref: ParserRef) -> type[ParserProxy]:
    return ref.resolve()


class ParsePool:
    """Worker processes that parse pages; replaced when one dies, the pages in flight not lost.

    :meth:`start` and :meth:`close` block (run them on a thread); :meth:`parse` is awaited on the
    reactor's asyncio loop.
    """

    def __init__(self, workers: int, stats: StatsCollector, log_level: int = logging.INFO) -> None:
        if workers < 1:
            raise ValueError(f"a parse pool needs at least one worker, not {workers}")
        self.workers = workers
        self.stats = stats
        self.log_level = log_level
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(PRELOAD)
        self._lifeline_read, self._lifeline_write = self._context.Pipe(duplex=False)
        self._executor = self._new_executor(workers)
        self._alone: ProcessPoolExecutor | None = None  # parses the pages of a broken pool again, one at a time
        self._alone_turn = asyncio.Lock()

    def _new_executor(self, workers: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(workers, mp_context=self._context, initializer=_start_worker,
                                   initargs=(self.log_level, self._lifeline_read))

    def start(self) -> None:
        """Start every worker (and the forkserver, the first time), so no page waits for one."""
        for future in [self._executor.submit(_ready) for _ in range(self.workers)]:
            future.result()
        self.stats.set_value(PARSE_POOL_WORKERS, self.workers)
        logger.info("parsing pages in %d worker processes", self.workers)

    def pids(self) -> list[int]:
        """The process ids of the current workers."""
        return list(getattr(self._executor, "_processes", None) or {})

    def close(self) -> None:
        """Stop the workers (pages still queued are not parsed)."""
        for executor in (self._executor, self._alone):
            if executor is not None:
                executor.shutdown(wait=True, cancel_futures=True)
        self._lifeline_write.close()
        self._lifeline_read.close()

    async def parse(self, parser: type[ParserProxy], page: Page) -> Parsed:
        """:func:`parse_page` in a worker; what the worker logged is logged here."""
        ref = ParserRef.of(parser)
        executor = self._executor
        try:
            future = executor.submit(_work, ref, page)
        except BrokenProcessPool:  # it broke between two pages: this one was never sent
            executor = self._replace(executor)
            future = executor.submit(_work, ref, page)
        try:
            parsed = await asyncio.wrap_future(future)
        except BrokenProcessPool:
            self._replace(executor)
            parsed = await self._parse_alone(ref, page)
        for name, level, message in parsed.logs:
            logging.getLogger(name).log(level, "%s", message)
        self.stats.inc_value(PARSE_POOL_PARSED)
        return parsed

    def _replace(self, broken: ProcessPoolExecutor) -> ProcessPoolExecutor:
        """A new executor for ``broken`` (once, however many pages saw it break)."""
        if self._executor is broken:
            broken.shutdown(wait=False, cancel_futures=True)
            self._executor = self._new_executor(self.workers)
            self.stats.inc_value(PARSE_POOL_RESTARTED)
            logger.warning("a parse worker died; the pool is restarted and the pages it held are parsed again")
        return self._executor

    async def _parse_alone(self, ref: ParserRef, page: Page) -> Parsed:
        """Parse a page that was in flight when a worker died, with no other page beside it: if its
        worker dies too, the page is what kills it."""
        self.stats.inc_value(PARSE_POOL_REPARSED)
        async with self._alone_turn:
            self._alone = self._alone or self._new_executor(1)
            try:
                future: Future[Parsed] = self._alone.submit(_work, ref, page)
            except BrokenProcessPool:  # its worker died while idle
                self._alone = self._new_executor(1)
                future = self._alone.submit(_work, ref, page)
            try:
                return await asyncio.wrap_future(future)
            except BrokenProcessPool:
                self._alone.shutdown(wait=False, cancel_futures=True)
                self._alone = None
                return Parsed(error=f"the worker process parsing {page.url} died (twice: the page kills its parser)")
