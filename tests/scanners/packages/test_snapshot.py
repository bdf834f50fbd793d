"""Registry JSON → PackageSnapshot, and which artifact to download."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scanners.packages.snapshot import (
    choose_artifact_url,
    parse_time,
    snapshot_from_crates,
    snapshot_from_npm,
    snapshot_from_pypi,
)
from tests.scanners.packages.build import NOW, fixture


def test_npm_packument_normalised() -> None:
    snap = snapshot_from_npm(fixture("npm-event-stream.json"), None, None, NOW)
    meta = snap.metadata
    assert (snap.ecosystem, snap.name, snap.version) == ("npm", "event-stream", "3.3.6")
    assert meta.created_at == datetime(2011, 6, 28, 22, 34, 1, tzinfo=UTC)
    assert meta.published_at == datetime(2018, 9, 9, 14, 31, 55, tzinfo=UTC)
    assert [v.version for v in meta.versions] == ["3.3.3", "3.3.4", "3.3.5", "3.3.6"]
    assert meta.version_maintainers == ["right9ctrl"]
    assert meta.previous_version == "3.3.5"
    assert meta.previous_maintainers == ["dominictarr", "right9ctrl"]
    assert meta.publisher == "right9ctrl" and meta.previous_publishers == ["dominictarr", "right9ctrl"]
    assert meta.repository_url == "git://github.com/dominictarr/event-stream.git"
    assert "flatmap-stream" in meta.dependencies
    assert snap.artifact is None and snap.artifact_kind is None


def test_npm_specific_version_and_dist_tag() -> None:
    doc = fixture("npm-event-stream.json")
    assert snapshot_from_npm(doc, "3.3.4", None, NOW).metadata.previous_version == "3.3.3"
    assert snapshot_from_npm(doc, "latest", None, NOW).version == "3.3.6"
    missing = snapshot_from_npm(doc, "9.9.9", None, NOW)
    assert missing.version is None and missing.metadata.parse_gaps


def test_npm_install_scripts_from_registry() -> None:
    snap = snapshot_from_npm(fixture("npm-ua-parser.json"), None, None, NOW)
    assert snap.metadata.install_scripts == {"preinstall": "start /B node preinstall.js & node preinstall.js"}


def test_pypi_project_json() -> None:
    snap = snapshot_from_pypi(fixture("pypi-requests.json"), None, None, NOW)
    meta = snap.metadata
    assert snap.version == "2.31.0"
    assert meta.created_at == datetime(2011, 2, 14, 10, 0, tzinfo=UTC)
    assert meta.published_at == datetime(2023, 5, 22, 15, 12, 42, tzinfo=UTC)  # earliest file of the release
    assert meta.previous_version == "2.30.0"
    assert meta.repository_url == "https://github.com/psf/requests"
    assert set(meta.dependencies) >= {"charset-normalizer", "idna", "urllib3", "certifi", "PySocks"}
    assert not meta.files_removed


def test_pypi_removed_and_yanked() -> None:
    removed = snapshot_from_pypi(fixture("pypi-removed.json"), None, None, NOW)
    assert removed.metadata.files_removed
    yanked = snapshot_from_pypi(fixture("pypi-yanked-malware.json"), "0.2.6", None, NOW)
    assert yanked.metadata.yanked and "Malicious" in (yanked.metadata.yanked_reason or "")


def test_crates_document() -> None:
    snap = snapshot_from_crates(fixture("crates-serde-json.json"), None, None, NOW)
    meta = snap.metadata
    assert snap.version == "1.0.114"
    assert [v.version for v in meta.versions] == ["0.1.0", "1.0.113", "1.0.114"]
    assert meta.publisher == "dtolnay" and meta.previous_version == "1.0.113"
    assert meta.license == "MIT OR Apache-2.0"
    assert meta.versions[0].yanked


def test_choose_artifacts() -> None:
    npm = choose_artifact_url("npm", fixture("npm-event-stream.json"), None)
    assert npm is not None and npm.kind == "npm-tarball" and npm.url.endswith("event-stream-3.3.6.tgz")
    assert npm.integrity == "sha512-AAAA"
    pypi = choose_artifact_url("pypi", fixture("pypi-requests.json"), None)
    assert pypi is not None and pypi.kind == "wheel" and pypi.filename == "requests-2.31.0-py3-none-any.whl"
    assert pypi.size == 62574 and pypi.sha256 == "dd"
    old = choose_artifact_url("pypi", fixture("pypi-requests.json"), "0.2.0")
    assert old is not None and old.kind == "sdist"
    crate = choose_artifact_url("crate", fixture("crates-serde-json.json"), "1.0.113")
    assert crate is not None and crate.url == "/api/v1/crates/serde_json/1.0.113/download" and crate.size == 145000
    assert choose_artifact_url("pypi", fixture("pypi-removed.json"), None) is None
    assert choose_artifact_url("npm", {}, None) is None


def test_pypi_platform_wheels_lose_to_sdist() -> None:
    doc = {"info": {"name": "fast", "version": "1.0"}, "releases": {"1.0": [
        {"filename": "fast-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", "packagetype": "bdist_wheel", "url": "https://files.example.test/a.whl"},
        {"filename": "fast-1.0.tar.gz", "packagetype": "sdist", "url": "https://files.example.test/fast-1.0.tar.gz"},
    ]}}
    choice = choose_artifact_url("pypi", doc, None)
    assert choice is not None and choice.kind == "sdist"


def test_parse_time_forms() -> None:
    assert parse_time("2018-09-09T14:31:55.000Z") == datetime(2018, 9, 9, 14, 31, 55, tzinfo=UTC)
    assert parse_time("2015-08-07T20:49:53.000000+00:00") == datetime(2015, 8, 7, 20, 49, 53, tzinfo=UTC)
    assert parse_time("2023-05-22T15:12:42") == datetime(2023, 5, 22, 15, 12, 42, tzinfo=UTC)
    assert parse_time("yesterday") is None and parse_time(17) is None


@pytest.mark.parametrize("doc", [
    {}, {"versions": []}, {"versions": {"1.0": "oops"}, "time": [], "dist-tags": "x"}, {"name": 5, "versions": {"1": {"maintainers": "x"}}},
])
def test_malformed_npm_documents_do_not_raise(doc: dict) -> None:
    snap = snapshot_from_npm(doc, None, None, NOW)
    assert snap.ecosystem == "npm"


@pytest.mark.parametrize("doc", [{}, {"info": []}, {"info": {"version": "1"}, "releases": {"1": "x"}}, {"releases": {"1": [None, 3]}}])
def test_malformed_pypi_documents_do_not_raise(doc: dict) -> None:
    assert snapshot_from_pypi(doc, None, None, NOW).ecosystem == "pypi"


@pytest.mark.parametrize("doc", [{}, {"crate": "x", "versions": "y"}, {"crate": {}, "versions": [None, {"num": "1"}]}])
def test_malformed_crate_documents_do_not_raise(doc: dict) -> None:
    assert snapshot_from_crates(doc, None, None, NOW).ecosystem == "crate"
