"""Checking a contract document against the ODCS JSON schema (Draft 2019-09), with messages
that name the place and suggest the field that was meant."""

from __future__ import annotations

import difflib
import functools
import importlib.resources
import json
from collections.abc import Iterable
from typing import Any

from jsonschema import Draft201909Validator, ValidationError
from jsonschema.exceptions import best_match

from .model import Problem


@functools.cache
def _odcs_schema() -> dict[str, Any]:
    text = (importlib.resources.files("open_data_contract_standard") / "schema.json").read_text(
        encoding="utf-8"
    )
    return json.loads(text)


@functools.cache
def _validator() -> Draft201909Validator:
    schema = _odcs_schema()
    # The schema declares Draft 2019-09; `unevaluatedProperties` (its typo guard) needs it.
    return Draft201909Validator(schema, format_checker=Draft201909Validator.FORMAT_CHECKER)


@functools.cache
def _odcs_field_names() -> frozenset[str]:
    """Every field name the standard defines anywhere: for "did you mean" hints, and to tell a
    typo from a known field that a failed sibling rule left unevaluated."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            props = node.get("properties")
            if isinstance(props, dict):
                names.update(props)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(_odcs_schema())
    return frozenset(names)


def place_of(path: Iterable[str | int]) -> str:
    """A document path as a readable place: ['schema', 0, 'properties', 3] ->
    'schema[0].properties[3]'."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """A hint at the closest known word, never `word` itself."""
    close = difflib.get_close_matches(word, sorted(set(known) - {word}), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


_OPERATOR_PREFIXES = ("mustBe", "mustNotBe")
# What a quality rule of these types does instead of comparing a value with an operator.
_NO_OPERATOR = {
    "custom": "custom rules take no operator (their expectation decides)",
    "text": "text rules take no operator (they are documentation)",
}


def _not_allowed(key: str, instance: Any, known: frozenset[str]) -> str:
    """Why `key` may not stand on the object `instance`: a typo (with a hint) or a field the
    standard has, but elsewhere (never "did you mean" the same word)."""
    if key not in known:
        return f"is not a field ODCS allows here{did_you_mean(key, known)}"
    kind = instance.get("type") if isinstance(instance, dict) else None
    if key.startswith(_OPERATOR_PREFIXES) and kind in _NO_OPERATOR:
        return f"is not allowed here: {_NO_OPERATOR[kind]}"
    return "is an ODCS field, but not one allowed here"


def _unexpected(error: ValidationError) -> list[str]:
    """The keys an additional/unevaluatedProperties error complains about."""
    instance = error.instance if isinstance(error.instance, dict) else {}
    allowed: set[str] = set()
    if error.validator == "additionalProperties":
        allowed = set((error.schema or {}).get("properties", {}))
    return [k for k in instance if k not in allowed and f"'{k}'" in error.message]


def _schema_problems(document: Any, file: str) -> list[Problem]:
    errors = list(_validator().iter_errors(document))
    by_path: dict[tuple[str | int, ...], list[ValidationError]] = {}
    for error in errors:
        by_path.setdefault(tuple(error.absolute_path), []).append(error)
    problems: list[Problem] = []
    for path, here in sorted(by_path.items(), key=lambda kv: [str(p) for p in kv[0]]):
        noisy = any(e.validator != "unevaluatedProperties" for e in here)
        for error in here:
            problems.extend(_describe(error, path, file, noisy=noisy))
    # without a logicalType, the schema applies every type's options rules: only the gap counts
    untyped = tuple(f"{p.place}.logicalTypeOptions" for p in problems
                    if p.message == "needs a logicalType")  # fmt: skip
    problems = [p for p in problems if not p.place.startswith(untyped)] if untyped else problems
    return list(dict.fromkeys(problems))  # the same complaint can come from two branches


def _describe(
    error: ValidationError, path: tuple[str | int, ...], file: str, *, noisy: bool
) -> list[Problem]:
    known = _odcs_field_names()
    if error.validator in ("additionalProperties", "unevaluatedProperties"):
        keys = _unexpected(error)
        if noisy and error.validator == "unevaluatedProperties":
            # When another rule failed on this object, JSON schema also reports the fields that
            # rule would have allowed; only keys the standard has nowhere are real typos.
            keys = [k for k in keys if k not in known]
        return [
            Problem(file, place_of((*path, k)), _not_allowed(k, error.instance, known))
            for k in keys
        ]
    instance = error.instance
    if (
        error.validator == "required"
        and isinstance(instance, dict)
        and "logicalType" not in instance
        and "map" in error.message
    ):
        # ODCS 3.2.0's schema demands `map` from any property without a logicalType (its
        # `if logicalType == map` holds vacuously); the real gap is the missing logicalType,
        # unless it is only misspelt: that key's own problem says so, with the right spelling.
        typos = [k for k in instance if str(k) not in _odcs_field_names()]
        if any(difflib.get_close_matches(str(k), ["logicalType"], n=1) for k in typos):
            return []
        return [Problem(file, place_of(path), "needs a logicalType")]
    if error.validator in ("oneOf", "anyOf") and error.context:
        if all(c.validator == "required" for c in error.context):
            options = ", ".join(sorted({str(c.validator_value[0]) for c in error.context}))
            return [Problem(file, place_of(path), f"needs one of {options}")]
        if all(c.validator == "type" for c in error.context):
            types = " or ".join(sorted({str(c.validator_value) for c in error.context}))
            return [Problem(file, place_of(path), f"{instance!r} must be of type {types}")]
        error = best_match(error.context)
        path = tuple(error.absolute_path)
        if error.validator in ("additionalProperties", "unevaluatedProperties"):
            return _describe(error, path, file, noisy=False)
    message = error.message
    if error.validator == "type" and error.validator_value == "string":
        # YAML reads 1.0, 2024-01-01 and no as a number, a date and a boolean
        message += f" (quote it in YAML: '{error.instance}')"
    return [Problem(file, place_of(path), message)]
