"""deploy/: the systemd units docs/OPERATIONS.md installs, checked by ``systemd-analyze verify`` and
against the command line they run."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT
from newscrawl.ops.cli import build_parser
from newscrawl.sites import site_spiders

DEPLOY = ROOT / "deploy"
UNITS = ("newscrawl@.service", "newscrawl@.timer", "newscrawl-all.service", "newscrawl-all.timer")
#: where the units expect the installed command (docs/OPERATIONS.md installs it there)
COMMAND = "/opt/newscrawl/venv/bin/newscrawl"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((DEPLOY / name).read_text(encoding="utf-8"))
    return parser


def test_deploy_holds_the_units_the_operations_page_installs() -> None:
    assert sorted(path.name for path in DEPLOY.iterdir()) == sorted(UNITS)
    operations = (ROOT / "docs" / "OPERATIONS.md").read_text(encoding="utf-8")
    assert all(f"deploy/{name}" in operations for name in UNITS)


def site_spider_names() -> list[str]:
    return [spider.name for spider in site_spiders() if spider.name != "generic"]


@pytest.mark.parametrize(("service", "instances"), [("newscrawl@.service", "every site spider"),
                                                    ("newscrawl-all.service", None)])
def test_each_service_runs_a_newscrawl_command_the_cli_accepts(service: str, instances: str | None) -> None:
    section = unit(service)["Service"]
    program, *arguments = section["ExecStart"].split()
    assert program == COMMAND
    for name in site_spider_names() if instances else [""]:
        args = build_parser().parse_args([a.replace("%i", name) for a in arguments])
        assert args.command == "run" and (args.spider == name if instances else args.all)
    # the data directory is the one systemd creates for the service, and secrets come from a file
    assert section["Environment"] == f"NEWSCRAWL_DATA_DIR=/var/lib/{section['StateDirectory']}"
    assert section["EnvironmentFile"].startswith("-/etc/") and "MONGO_URI" not in section["Environment"]
    assert section["Type"] == "oneshot"


def test_each_timer_starts_its_service_hourly() -> None:
    for name in ("newscrawl@.timer", "newscrawl-all.timer"):
        timer = unit(name)
        assert timer["Timer"]["OnCalendar"] == "hourly" and timer["Timer"]["Persistent"] == "true"
        assert timer["Install"]["WantedBy"] == "timers.target"
        assert (DEPLOY / name.replace(".timer", ".service")).exists()


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed (apt-get install systemd)")
def test_systemd_analyze_verifies_the_units(tmp_path: Path) -> None:
    """Every unit, the template as an instance per site spider, with the command where the units
    expect it (here a stand-in: verify checks that it is an executable file)."""
    stand_in = tmp_path / "newscrawl"
    stand_in.write_text("#!/bin/sh\n", encoding="utf-8")
    stand_in.chmod(0o755)
    for name in UNITS:
        text = (DEPLOY / name).read_text(encoding="utf-8")
        (tmp_path / name).write_text(text.replace(COMMAND, str(stand_in)), encoding="utf-8")
    names = [str(tmp_path / f"newscrawl@{spider}.{kind}") for spider in site_spider_names()
             for kind in ("service", "timer")]
    names += [str(tmp_path / "newscrawl-all.service"), str(tmp_path / "newscrawl-all.timer")]
    result = subprocess.run([SYSTEMD_ANALYZE, "verify", *names], cwd=tmp_path, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0 and result.stdout + result.stderr == "", result.stdout + result.stderr
    # and it does object to a broken unit
    (tmp_path / "newscrawl@.service").write_text(
        (tmp_path / "newscrawl@.service").read_text(encoding="utf-8").replace("Type=oneshot", "Type=oneshoot"),
        encoding="utf-8")
    broken = subprocess.run([SYSTEMD_ANALYZE, "verify", str(tmp_path / "newscrawl@unian.service")], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert "Failed to parse service type" in broken.stderr
