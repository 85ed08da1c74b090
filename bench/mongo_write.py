"""Storage benchmark: the bulk writer vs one insert_one per item, and the dedupe pipeline's speed/memory.

Run: ``python bench/mongo_write.py [--items 5000] [--dedupe-items 100000]`` (uses MONGO_URI, else
starts an embedded nx-27017 in a temporary directory). Prints items/s and the ratio measured in
this run, on the same server with the same items. Not a test.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from newscrawl.defaults import setting_value  # noqa: E402
from newscrawl.extract.identity import fingerprint, url_key  # noqa: E402
from newscrawl.store.database import open_storage  # noqa: E402
from newscrawl.store.dedupe import Deduper, add_bands  # noqa: E402
from newscrawl.store.server import EmbeddedServer  # noqa: E402
from newscrawl.store.writer import ArticleStore  # noqa: E402

SEED = Path(__file__).resolve().parents[1] / "tests/files/unian/article_en_seed.txt"
WORDS = re.findall(r"[A-Za-z]+", SEED.read_text(encoding="utf-8"))


def make_docs(count: int, offset: int = 0) -> list[dict]:
    """Article documents with distinct generated bodies (about 400 words each)."""
    docs = []
    for number in range(offset, offset + count):
        rng = random.Random(number)
        body = "\n\n".join(" ".join(rng.choices(WORDS, k=100)) for _ in range(4))
        url = f"https://www.unian.info/world/story-{number}.html"
        content, simhash = fingerprint(body)
        docs.append(add_bands({"url": url, "url_key": url_key(url), "site": "unian", "language": "en",
                               "source_id": str(10_000_000 + number), "title": f"Story {number}", "body": body,
                               "content_hash": content, "simhash": simhash}))
    return docs


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__)
    cli.add_argument("--items", type=int, default=5000, help="items per writer")
    cli.add_argument("--dedupe-items", type=int, default=100_000, help="items through the deduper")
    args = cli.parse_args()
    server = None
    uri = setting_value("MONGO_URI")
    if not uri:
        server = EmbeddedServer.start(Path(tempfile.mkdtemp(prefix="bench-mongo-")))
        uri = server.uri
    try:
        storage = open_storage(uri, f"bench_{os.getpid()}")
        docs = make_docs(args.items)
        start = time.perf_counter()
        for doc in [dict(d) for d in docs]:
            storage.db.articles.insert_one(doc)
        single = args.items / (time.perf_counter() - start)
        storage.db.articles.delete_many({})
        upsert_docs = [dict(d) for d in docs[: max(1, args.items // 10)]]
        start = time.perf_counter()
        for doc in upsert_docs:
            storage.db.articles.update_one({"url_key": doc["url_key"]}, {"$set": doc}, upsert=True)
        upserts = len(upsert_docs) / (time.perf_counter() - start)
        storage.db.articles.delete_many({})
        store = ArticleStore(storage.db)
        batches = [[dict(d) for d in docs[i : i + 200]] for i in range(0, len(docs), 200)]
        start = time.perf_counter()
        for batch in batches:
            store.write(batch)
        bulk = args.items / (time.perf_counter() - start)
        print(f"server: {storage.traits.server}; {args.items} articles of ~400 words")
        print(f"upsert per item     : {upserts:9.0f} items/s   (update_one upsert=True, {len(upsert_docs)} items)")
        print(f"insert_one per item : {single:9.0f} items/s")
        print(f"bulk writer (200)   : {bulk:9.0f} items/s   ratio {bulk / single:.1f}x vs insert_one (goal >= 10x), "
              f"{bulk / upserts:.1f}x vs upserts")

        storage.db.articles.delete_many({})
        deduper = Deduper()
        stream = make_docs(args.dedupe_items)
        tracemalloc.start()
        start = time.perf_counter()
        for i in range(0, len(stream), 200):
            batch = [d for d in stream[i : i + 200] if deduper.decide(d, store.keys.matches([d])[0]).verdict.value == "new"]
            store.write(batch)
        rate = len(stream) / (time.perf_counter() - start)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"dedupe + bulk store : {rate:9.0f} items/s over {len(stream)} items, "
              f"peak Python memory in the loop {peak / 2**20:.0f} MB (in-run memory bounded: {deduper.memory_items} keys)")
        storage.client.drop_database(storage.db.name)
        storage.close()
    finally:
        if server:
            server.stop()


if __name__ == "__main__":
    main()
