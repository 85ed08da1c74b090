"""The lookup batcher: dedupe checks from the crawler's event loop, looked up together on a thread
of their own.

A check waits (at most ``seconds``) for others to be looked up with, up to ``batch`` of them: one
query of the key collection answers them all, off the reactor. The decisions are then taken in
order on the sink's thread, so a copy in the same batch as its original is told apart exactly as
it would be one at a time. No Scrapy and no database here: the sink gives the batcher its three
steps (prepare a document, look a batch up, decide it).
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from newscrawl.store.dedupe import Decision, StoredMatches
from newscrawl.store.errors import StorageDown

#: what a lookup gives: the database's matches, the failure that kept it from answering, or None
#: when it was not asked (believed down)
Lookup = list[StoredMatches] | StorageDown | None
Document = dict[str, Any]


class LookupBatcher:
    """Gathers queued checks into batches on its thread, looks each batch up and hands it to be decided."""

    def __init__(
        self,
        prepare: Callable[[Document], Document],
        look_up: Callable[[list[Document]], Lookup],
        decide: Callable[[list[Document], Lookup], Future[list[Decision]]],
        *,
        batch: int,
        seconds: float,
    ) -> None:
        self.prepare = prepare
        self.look_up = look_up
        self.decide = decide
        self.batch = batch
        self.seconds = seconds
        # checks wait here to be looked up together (None: stop)
        self._checks: queue.SimpleQueue[tuple[Document, Future[Decision]] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._look_up_batches, name="newscrawl-lookup", daemon=True)
        self._thread.start()

    async def check(self, doc: Document) -> Decision:
        """The decision on ``doc``, awaited from the crawler's event loop."""
        decided: Future[Decision] = Future()
        self._checks.put((doc, decided))
        return await asyncio.wrap_future(decided)

    def close(self) -> None:
        """Answer the checks queued so far, then stop the thread."""
        self._checks.put(None)
        self._thread.join()

    def _look_up_batches(self) -> None:
        """The lookup thread: gather the queued checks into batches and look each batch up."""
        while (first := self._checks.get()) is not None:
            batch = [first]
            deadline = time.monotonic() + self.seconds
            while len(batch) < self.batch:
                try:
                    waiting = self._checks.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if waiting is None:
                    self._checks.put(None)  # stop once this batch is answered
                    break
                batch.append(waiting)
            self._answer(batch)

    def _answer(self, batch: list[tuple[Document, Future[Decision]]]) -> None:
        """Look ``batch`` up here, have it decided, and hand each check its decision (or its error:
        a document without the fields of an identity fails alone)."""
        ready: list[tuple[Document, Future[Decision]]] = []
        for doc, future in batch:
            try:
                ready.append((self.prepare(doc), future))
            except Exception as exc:
                future.set_exception(exc)
        docs = [doc for doc, _ in ready]
        try:
            decided = self.decide(docs, self.look_up(docs))
        except Exception as exc:  # the checks fail, not the lookup thread
            for _, future in ready:
                future.set_exception(exc)
            return

        def hand_out(done: Future[list[Decision]]) -> None:
            error = done.exception()
            for index, (_, future) in enumerate(ready):
                if error is not None:
                    future.set_exception(error)
                else:
                    future.set_result(done.result()[index])

        decided.add_done_callback(hand_out)
