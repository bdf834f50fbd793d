"""Validation of the SARIF Watchpost writes, against ``tests/data/sarif-2.1.0-emitted.schema.json``:
the SARIF 2.1.0 objects we emit, each closed to the property names the specification defines for
it, with its required properties, enumerations and bounds (formats checked too). The official
schema file is not vendored (see docs/architecture.md)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA_PATH = Path(__file__).parent / "data" / "sarif-2.1.0-emitted.schema.json"


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())


def sarif_errors(document: Any) -> list[str]:
    return [f"{'/'.join(str(p) for p in error.absolute_path)}: {error.message}" for error in _validator().iter_errors(document)]
