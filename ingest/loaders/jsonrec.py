"""JSON and JSON Lines: every record must be an object; depth and NaN are refused."""

from __future__ import annotations

import json
from typing import Any

from ingest.loaders._base import LoadedRecords, LoadLimits, bom_encoding, fail

__all__ = ["load_json", "load_jsonl"]


def _refuse_constant(value: str) -> Any:
    raise ValueError(f"{value} is not allowed in a record")


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of a parsed value, computed without recursion; stops counting past ``limit``."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, (dict, list)):
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _decode(data: bytes, *, name: str) -> str:
    encoding, skip = bom_encoding(data)
    try:
        return data[skip:].decode(encoding or "utf-8")
    except UnicodeDecodeError as exc:
        raise fail("invalid_json", f"{name} is not UTF-8 (byte {exc.start}); save it as UTF-8") from None


def _parse(text: str, *, where: str, limits: LoadLimits) -> Any:
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise fail("invalid_json", f"{where} is nested too deeply; flatten the record") from None
    except json.JSONDecodeError as exc:
        raise fail("invalid_json", f"{where}: {exc.msg} at column {exc.colno}; fix or remove it") from None
    except ValueError as exc:
        raise fail("invalid_json", f"{where}: {exc}; use null or a string instead") from None
    if _depth(value, limits.max_json_depth) > limits.max_json_depth:
        raise fail(
            "invalid_json",
            f"{where} is nested more than {limits.max_json_depth} levels deep; flatten it",
        )
    return value


def _records(values: list[Any], *, name: str, label: str) -> tuple[dict[str, Any], ...]:
    for number, value in enumerate(values, start=1):
        if not isinstance(value, dict):
            kind = type(value).__name__
            raise fail(
                "invalid_json",
                f"{name} {label} {number} is a {kind}, not an object; make it a {{...}} object",
            )
    if not values:
        raise fail("invalid_json", f"{name} contains no records; add at least one JSON object")
    return tuple(values)


def load_json(data: bytes, *, name: str, limits: LoadLimits) -> LoadedRecords:
    """Load a JSON file holding one object or an array of objects."""
    value = _parse(_decode(data, name=name), where=name, limits=limits)
    values = value if isinstance(value, list) else [value]
    return LoadedRecords(records=_records(values, name=name, label="record"), format="json")


def load_jsonl(data: bytes, *, name: str, limits: LoadLimits) -> LoadedRecords:
    """Load JSON Lines: one object per non-blank line; the first bad line fails the file, by number."""
    values: list[Any] = []
    for number, line in enumerate(_decode(data, name=name).split("\n"), start=1):
        if line.strip():
            values.append(_parse(line, where=f"{name} line {number}", limits=limits))
            if not isinstance(values[-1], dict):
                kind = type(values[-1]).__name__
                raise fail(
                    "invalid_json",
                    f"{name} line {number} is a {kind}, not an object; make it a {{...}} object",
                )
    return LoadedRecords(records=_records(values, name=name, label="line"), format="jsonl")
