"""``python -m newscrawl run`` as cron runs it: incremental runs, layout-drift alerts, webhook, exit codes.

Replays of generated variations of the UNIAN article page (tests/variations.py) into the session's
MongoDB; the webhook is a local HTTP server.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from conftest import ROOT
from localsite import QuietHandler, crawl_env, local_site
from variations import build_archive

STORIES = range(1, 21)


class Webhook(QuietHandler):
    """Collects the JSON bodies POSTed to it."""

    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Webhook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    @classmethod
    def opened(cls, base: str) -> str:
        """The URL the runs are told to post to."""
        return base + "/hooks/secret-token-123"


webhook = local_site(Webhook, scope="module")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, mongo_uri: str, webhook: str) -> dict[str, str]:
    return crawl_env(tmp_path_factory.mktemp("runs"), mongo_uri, "runs", NEWSCRAWL_WEBHOOK_URL=webhook)


def newscrawl(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "newscrawl", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)


def run_unian(env: dict[str, str], archive: Path) -> subprocess.CompletedProcess[str]:
    return newscrawl(env, "run", "unian", "-s", f"NEWSCRAWL_REPLAY={archive}", "-s", "NEWSCRAWL_LISTING_PAGES=1",
                     "-s", "NEWSCRAWL_SITEMAPS=0", "-s", "NEWSCRAWL_MONGO_FLUSH_SECONDS=0.2")


def latest_run(env: dict[str, str]) -> dict[str, Any]:
    client: MongoClient = MongoClient(env["MONGO_URI"])
    try:
        return next(client[env["MONGO_DATABASE"]].crawl_runs.find({"spider": "unian"}).sort("started_at", -1).limit(1))
    finally:
        client.close()


@pytest.fixture(scope="module")
def healthy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_archive(tmp_path_factory.mktemp("warc") / "healthy.warc.gz", STORIES)


@pytest.fixture(scope="module")
def first_run(env: dict[str, str], healthy: Path) -> subprocess.CompletedProcess[str]:
    return run_unian(env, healthy)


@pytest.mark.crawl
def test_first_run_stores_everything_and_records_the_run(first_run: subprocess.CompletedProcess[str],
                                                         env: dict[str, str]) -> None:
    assert first_run.returncode == 0, first_run.stdout + first_run.stderr
    assert "unian: finished, 20 parsed, 20 stored, 0 updated, 0 alerts, 0 errors" in first_run.stdout
    run = latest_run(env)
    assert run["items"]["stored"] == 20 and run["alerts"] == []
    assert run["fill_rate"]["published_at"] == run["fill_rate"]["body"] == run["fill_rate"]["authors"] == 1.0
    assert run["layers"]["body"] == {"html": 20}
    assert run["status_counts"]["200"] == 21  # the listing and 20 articles; feeds/robots are 404 in the replay
    logs = list(Path(env["NEWSCRAWL_DATA_DIR"], "logs", "unian").glob("*.log"))
    assert len(logs) == 1 and "Spider closed (finished)" in logs[0].read_text(encoding="utf-8")


@pytest.mark.crawl
def test_second_run_over_the_same_site_downloads_no_article(first_run: subprocess.CompletedProcess[str],
                                                           env: dict[str, str], healthy: Path) -> None:
    again = run_unian(env, healthy)
    assert again.returncode == 0, again.stdout
    run = latest_run(env)
    assert run["article_responses"] == 0
    assert run["discovered"]["skipped_stored"] == 20
    assert run["items"]["stored"] == run["items"]["parsed"] == 0
    assert run["alerts"] == []  # nothing new is not an alert


@pytest.mark.crawl
def test_layout_drift_raises_alerts_exit_2_and_one_webhook_message_each(
    first_run: subprocess.CompletedProcess[str], env: dict[str, str], tmp_path: Path
) -> None:
    drifted = build_archive(tmp_path / "drifted.warc.gz", range(101, 121), drifted_every=2)
    Webhook.received.clear()
    result = run_unian(env, drifted)
    assert result.returncode == 2, result.stdout + result.stderr
    run = latest_run(env)
    rules = {(alert["rule"], alert["details"].get("field")) for alert in run["alerts"]}
    # other layers still fill every field, so no fill rate falls; that the site's markup stopped
    # answering half the time is the drift
    assert {("layout_drift", "published_at"), ("layout_drift", "authors"), ("layout_drift", "body"),
            ("generic_fallback", None)} <= rules
    assert run["fill_rate"]["published_at"] == 1.0 and run["markup_share"]["published_at"] == 0.5
    assert run["items"]["stored"] == 20  # the dateline "06:24, 18.02.23" is still read, with its time
    client: MongoClient = MongoClient(env["MONGO_URI"])
    try:
        story = client[env["MONGO_DATABASE"]].articles.find_one({"url_key": {"$regex": "story-number-102-"}})
    finally:
        client.close()
    assert story["published_source"] == "generic" and story["published_raw"] == "06:24, 18.02.23"
    assert run["generic_share"] == 0.5 and run["layers"]["body"] == {"html": 10, "generic": 10}
    assert run["fill_rate"]["body"] == 1.0
    assert len(Webhook.received) == len(run["alerts"])
    assert {m["rule"] for m in Webhook.received} == {a["rule"] for a in run["alerts"]}
    assert all(m["spider"] == "unian" and m["run_id"] == run["_id"] for m in Webhook.received)
    assert "ALERT [generic_fallback] the generic extractor gave the body of 50% of articles, usually 0%" in result.stdout
    log = max(Path(env["NEWSCRAWL_DATA_DIR"], "logs", "unian").glob("*.log")).read_text(encoding="utf-8")
    assert "secret-token-123" not in log and "ALERT unian [generic_fallback]" in log
    runs = newscrawl(env, "stats", "--runs", "2")
    assert runs.returncode == 0, runs.stderr
    assert runs.stdout.count("unian 20") == 2 and "ALERT [layout_drift] the site's markup gave published_at on 50%" in runs.stdout


def test_a_second_run_while_one_holds_the_lock_exits_0(env: dict[str, str], healthy: Path) -> None:
    import fcntl

    locks = Path(env["NEWSCRAWL_DATA_DIR"], "locks")
    locks.mkdir(parents=True, exist_ok=True)
    with open(locks / "unian.lock", "a+", encoding="utf-8") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.truncate(0)
        held.write("4242")
        held.flush()
        result = run_unian(env, healthy)
    assert result.returncode == 0
    assert "unian is still running (pid 4242" in result.stdout and "not starting another run" in result.stdout


@pytest.mark.crawl
def test_a_lock_left_by_a_dead_run_does_not_block(env: dict[str, str], healthy: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    locks = Path(env["NEWSCRAWL_DATA_DIR"], "locks")
    locks.mkdir(parents=True, exist_ok=True)
    (locks / "unian.lock").write_text(dead.stdout.strip(), encoding="utf-8")
    result = run_unian(env, healthy)
    assert result.returncode == 0 and "crawling, log" in result.stdout


@pytest.mark.parametrize(("args", "message"), [
    (("run", "nosuchsite"), "unknown spider 'nosuchsite'"),
    (("run", "unian", "--since", "18.02.2023", "--until", "2023-02-19"), "--since='18.02.2023': expected YYYY-MM-DD"),
    (("run",), "name one spider or give --all"),
    (("run", "unian", "--since", "2023-03-01", "--until", "2023-02-01"), "--since 2023-03-01 is after --until 2023-02-01"),
    (("run", "unian", "--until", "2023-02-01"), "--until needs --since"),
    (("run", "unian", "--since", "2023-02-01"), "--since needs --until"),
    (("run", "unian", "-s", "NEWSCRAWL_REPLAY=no-such.warc.gz"), "NEWSCRAWL_REPLAY=no-such.warc.gz: no such file"),
    (("run", "unian", "--workers", "two"), "argument --workers: invalid int value: 'two'"),
    (("run", "generic"), "error: generic needs -a url=https://site/ (comma-separated) or -a urls_file=FILE"),
    (("run", "generic", "-a", "url=ftp://example.ua/"), "error: not an http(s) site URL: ftp://example.ua/"),
    (("run", "unian", "-a", "editions=en,xx"), "error: -a editions: unknown xx; unian has uk, ru, en"),
    (("run", "unian", "-a", "editions"), "error: -a 'editions': expected NAME=VALUE"),
    (("run", "unian", "-a", "since=2023-02-01", "--since", "2023-02-01"), "error: give --since or -a since=, not both"),
    (("run", "unian", "-a", "since=2023-02-01"), "--since needs --until"),
    (("cron", "--every", "0"), "--every 0: cron runs a job every N minutes"),
    (("cron", "--every", "90"), "--every 90: cron runs a job every N minutes"),
    (("cron", "nosuch"), "unknown spider 'nosuch'"),
    (("query", "--since", "someday"), "--since 'someday' is not a date"),
    (("export", "--format", "xls", "--out", "x.xls"), "argument --format: invalid choice: 'xls'"),
    (("parse", "no-such.html", "--url", "https://www.unian.info/x-1.html"), "cannot read no-such.html"),
    (("parse", "tests/sites/unian/en-putin-belarus_2023-02-18.reconstructed.html.gz", "--url",
      "https://www.unian.info/x-1.html", "--fetched-at", "soon"), "--fetched-at 'soon' is not a plausible date"),
    (("nosuchcommand",), "invalid choice: 'nosuchcommand'"),
])
def test_configuration_errors_exit_3(env: dict[str, str], args: tuple[str, ...], message: str) -> None:
    """Every bad argument: one line naming it, exit 3, nothing started (no database, no crawl)."""
    result = newscrawl(env, *args)
    assert result.returncode == 3, result.stdout + result.stderr
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], lines


def test_version(env: dict[str, str]) -> None:
    from newscrawl import __version__

    result = newscrawl(env, "--version")
    assert result.returncode == 0 and result.stdout == f"newscrawl {__version__}\n"


def test_cron_every_two_hours(env: dict[str, str]) -> None:
    lines = newscrawl(env, "cron", "unian", "--every", "120").stdout.splitlines()
    assert lines == [f"0 */2 * * * cd {ROOT} && .venv/bin/python -m newscrawl run unian --quiet"]


def test_cron_prints_staggered_lines_for_every_site_spider(env: dict[str, str]) -> None:
    lines = newscrawl(env, "cron").stdout.splitlines()
    assert len(lines) == 8 and all("-m newscrawl run " in line for line in lines)
    minutes = [int(line.split()[0]) for line in lines]
    assert len(set(minutes)) == 8
    assert not any(" run generic " in line for line in lines)
