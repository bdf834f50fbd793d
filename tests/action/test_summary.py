"""The step summary quotes untrusted PR text: it stays text (no links, no table breaks), and line
links into Markdown files open the plain text so the line anchor works."""

from __future__ import annotations

from datetime import UTC, datetime

from action.summary import cell, step_summary
from scanners.models import Confidence, ScanReport, Severity, SubScores, Threat, Verdict


def test_cells_cannot_link_break_the_table_or_inject_html() -> None:
    text = cell("go to https://evil.example/x, WWW.evil.example | [x](y) <img src=x>")
    assert "https://" not in text and "WWW." not in text and "WWW&#46;evil" in text
    assert "\\|" in text and "\\[x\\]" in text and "<img" not in text


def test_line_links_into_rendered_files_use_the_plain_view() -> None:
    threats = [Threat(type="agent_config_tampering", severity=Severity.HIGH, detail="d", rule="r", path="AGENTS.md", line=12),
               Threat(type="obfuscation", severity=Severity.HIGH, detail="d", rule="r", path="src/a.py", line=3)]
    report = ScanReport(name="o/r", score=20, verdict=Verdict.DANGEROUS, confidence=Confidence.HIGH, scanned_at=datetime.now(UTC),
                        sub_scores=SubScores(), threats=threats, scanner_version="1")
    summary = step_summary(report, server_url="https://github.example", repository="o/r", head_sha="abc", status="blocking", fork_read_only=False)
    assert "/blob/abc/AGENTS.md?plain=1#L12)" in summary and "/blob/abc/src/a.py#L3)" in summary
