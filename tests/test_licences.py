"""LICENSE covers the project's own code; every saved page keeps its own terms in its provenance file."""

from __future__ import annotations

import re

from conftest import FILES, ROOT

SITES = ROOT / "tests" / "sites"


def provenance_files() -> list:
    return [*sorted(FILES.glob("*/README.md")), FILES / "regional" / "PROVENANCE.md",
            *sorted(SITES.glob("*/PROVENANCE.md"))]


def test_the_project_is_bsd_3_clause_as_scrapy() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Redistribution and use in source and binary forms" in text and "3. Neither the name of newscrawl" in text
    assert "tests/ are not covered by this licence" in " ".join(text.split())


def test_every_provenance_file_states_the_licence_of_what_it_describes() -> None:
    files = provenance_files()
    assert len(files) == 4 + 1 + len(list(SITES.iterdir()))
    for path in files:
        text = path.read_text(encoding="utf-8")
        section = text[text.index("\n## Licence\n"):]
        assert "not covered by newscrawl's bsd-3-clause licence" in section.lower(), path
        for link in re.findall(r"\]\(([^)]+)\)", section):
            assert (path.parent / link).resolve().is_file(), (path, link)


def test_every_site_fixture_page_is_described_where_its_licence_is() -> None:
    """Every fixture page of tests/sites is in its PROVENANCE.md, and the licence section names the
    README of every tests/files folder it draws on."""
    for site in sorted(SITES.iterdir()):
        provenance = (site / "PROVENANCE.md").read_text(encoding="utf-8")
        for page in sorted(site.glob("*.html.gz")):
            assert f"`{page.name}`" in provenance, page
        for source in re.findall(r"`(tests/files/[a-z_]+)/[^`]+`", provenance):
            assert f"{source}/README.md" in provenance.split("## Licence", 1)[1], (site, source)
