"""A project's data contracts (`contracts/*.odcs.yaml`), parsed once into validated objects.

Each file is checked three ways, in order, and every error names the file, the place in it and
what is wrong (``contracts/erp_partners.odcs.yaml: schema[0].properties[3].logicalTyp: ...``):

1. against the JSON schema bundled with `open-data-contract-standard` (Draft 2019-09), because
   the package's pydantic model ignores unknown keys below the top level, so a misspelt
   ``logicalTyp`` would otherwise pass silently;
2. with that pydantic model (`OpenDataContractStandard`), which gives typed access;
3. against what this pipeline needs: a `team` that ownership.yaml defines (there is no default
   owner), a local csv/parquet server for a source, and an `mdm.mapping` whose every column is a
   property of the contract and whose key is a required primary key; a source's retention
   period (ODCS ``slaProperties``, ``property: retention``) dates rows by a date or timestamp
   property of its schema.

Contracts are ODCS v3.2.0 (v3.1.0 is accepted too): 3.2.0 is the first version in which a
`local` server can state its `encoding`. What ODCS has no field for lives in custom properties
whose names start with ``mdm.``:

- contract ``customProperties``: ``mdm.role`` (``source`` or ``golden``) and, for a source,
  ``mdm.mapping`` (a `matching.mapping.SourceMapping` written as a YAML mapping);
- the server's ``customProperties``: ``mdm.delimiter`` for csv (ODCS's server ``delimiter``
  exists only for JSON documents on object stores).

A golden contract names its published table in ``schema[0].physicalName`` (``golden.customer``).
"""

from __future__ import annotations

import codecs
import difflib
import functools
import importlib.resources
import json
import zoneinfo
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, cast, get_args

import yaml
from jsonschema import Draft201909Validator, ValidationError
from jsonschema.exceptions import best_match
from open_data_contract_standard.model import OpenDataContractStandard
from pydantic import ValidationError as PydanticValidationError

from matching.mapping import CANONICAL_FIELDS, Entity, FieldRule, SourceMapping

from . import masking
from .ownership import Ownership, load_ownership

API_VERSIONS = ("v3.1.0", "v3.2.0")  # 3.1.0 introduced the `team` object we read the name from
CONTRACTS_DIR = "contracts"
CONTRACT_GLOB = "*.odcs.yaml"
OWNERSHIP_FILE = "ownership.yaml"

ROLE = "mdm.role"
MAPPING = "mdm.mapping"
DELIMITER = "mdm.delimiter"
MASKING = masking.PROPERTY
DRIFT = "mdm.drift"
# drift measures a golden contract may set a limit for (`pipelines.drift` reads them)
DRIFT_MEASURES = ("golden_count", "match_rate", "largest_cluster", "id_churn", "null_rate",
                  "match_probabilities")  # fmt: skip
# Where each mdm.* custom property may stand; anything else under mdm.* is a typo.
_MDM_PROPERTIES = {"contract": (ROLE, MAPPING, MASKING, DRIFT), "server": (DELIMITER,)}

# libyaml's loader when PyYAML was built with it: the pure-Python one takes ~0.1 s a contract.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Role = Literal["source", "golden", "staged"]
FileFormat = Literal["csv", "parquet"]
PII_TAG = "pii"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one contract file."""

    file: str
    place: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.place}: {self.message}"


class ContractError(ValueError):
    """One or more contracts are invalid; `problems` lists each, naming file and place."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class ContractProperty:
    """One property (column) of a contract's schema object."""

    name: str
    logical_type: str
    required: bool
    unique: bool
    primary_key: bool
    classification: str | None
    pii: bool  # tagged `pii`; such a property always has a classification
    logical_type_options: Mapping[str, Any]
    quality: tuple[Mapping[str, Any], ...]  # ODCS quality rules as written, for the checks


@dataclass(frozen=True)
class LocalServer:
    """Where a source extract lies and how to read it."""

    path: Path  # resolved against the project folder
    declared_path: str  # as the contract writes it
    format: FileFormat
    delimiter: str | None  # csv only
    encoding: str


# A source's retention period: the ODCS slaProperties item `property: retention`.
RETENTION = "retention"
# ODCS's (ISO) spellings of its unit -> the unit, and Polars' calendar offset for it.
_RETENTION_UNITS = {
    **dict.fromkeys(("d", "day", "days"), "days"),
    **dict.fromkeys(("m", "month", "months"), "months"),
    **dict.fromkeys(("y", "yr", "year", "years"), "years"),
}
_OFFSET_UNITS = {"days": "d", "months": "mo", "years": "y"}
# JDK DateTimeFormatter letters (ODCS date formats) -> % codes, longest first. Fractions of a
# second: Polars parses %6f and %3f, Python's strptime (Great Expectations' checks) only %f.
_JAVA_DATE_TOKENS = (
    ("yyyy", "%Y"), ("yy", "%y"), ("MMMM", "%B"), ("MMM", "%b"), ("MM", "%m"), ("dd", "%d"),
    ("HH", "%H"), ("mm", "%M"), ("ss", "%S"), ("SSSSSS", "%6f"), ("SSS", "%3f"),
)  # fmt: skip


@dataclass(frozen=True)
class Retention:
    """How long a source's rows are kept (ODCS ``slaProperties``, ``property: retention``): at
    ingest, a row whose `column` is older than `amount` `unit` before the run is dropped."""

    amount: int
    unit: Literal["days", "months", "years"]
    column: str  # a date or timestamp property of the contract
    logical_type: Literal["date", "timestamp"]
    parse_format: str | None  # its logicalTypeOptions.format as Polars reads it; None: ISO 8601
    timezone: str  # of a timestamp that states none (logicalTypeOptions.defaultTimezone; UTC)
    place: str  # where the contract declares it: slaProperties[<i>]

    @property
    def offset(self) -> str:
        """The period back from the run, as Polars' `dt.offset_by` reads it (calendar months
        and years: a month before 31 March is 28 or 29 February)."""
        return f"-{self.amount}{_OFFSET_UNITS[self.unit]}"

    def __str__(self) -> str:
        unit = self.unit.removesuffix("s") if self.amount == 1 else self.unit
        return f"{self.amount} {unit} by {self.column}"


@dataclass(frozen=True)
class _ContractBase:
    file: Path
    id: str
    name: str
    version: str
    team: str  # a team of ownership.yaml
    object_name: str  # schema[0].name
    properties: tuple[ContractProperty, ...]
    quality: tuple[Mapping[str, Any], ...]  # schema-level rules (rowCount, ...)
    # ODCS slaProperties as written (retention, frequency, latency, ...): shown on the assets
    sla: tuple[Mapping[str, Any], ...]

    @property
    def pii(self) -> dict[str, str]:
        """Classification of every PII property, by property name."""
        return {p.name: p.classification or "" for p in self.properties if p.pii}

    def property_named(self, name: str) -> ContractProperty:
        """The property called `name` (KeyError if the contract has none)."""
        for p in self.properties:
            if p.name == name:
                return p
        raise KeyError(f"{self.file}: no property {name!r}")


@dataclass(frozen=True)
class SourceContract(_ContractBase):
    """A source dataset: where it is, its columns, and how they map to the canonical model."""

    server: LocalServer
    mapping: SourceMapping
    retention: Retention | None = None  # rows older than this are dropped at ingest
    role: Literal["source"] = field(default="source", init=False)

    @property
    def entity(self) -> Entity:
        return self.mapping.entity

    @property
    def source_system(self) -> str:
        return self.mapping.source_system

    @property
    def key(self) -> str:
        return self.mapping.key

    @property
    def dataset(self) -> str:
        """`<source_system>_<object>`: the name of its raw asset, intermediates and quarantine."""
        return f"{self.source_system}_{self.object_name}"


@dataclass(frozen=True)
class GoldenContract(_ContractBase):
    """A published golden table (``golden.<entity>``) and its columns."""

    table: str
    entity: Entity
    # classification -> how its columns are masked for broad access (`pipelines.masking`)
    masks: Mapping[str, masking.Mask] = field(default_factory=dict)
    # slaProperties: published at least this often, a source change in it within latency
    frequency: timedelta | None = None
    latency: timedelta | None = None
    # drift measure -> its limit, where the contract sets one (`pipelines.drift.LIMITS`)
    drift: Mapping[str, float] = field(default_factory=dict)
    role: Literal["golden"] = field(default="golden", init=False)

    @property
    def masked(self) -> dict[str, masking.Mask]:
        """Column -> its mask, for every column whose classification has one."""
        return {p.name: self.masks[p.classification] for p in self.properties
                if p.classification in self.masks}  # fmt: skip


@dataclass(frozen=True)
class StagedContract(_ContractBase):
    """The staged (canonical, standardised) records of an entity, ``staged.<entity>``: what
    every source must look like once mapped, checked before matching starts."""

    table: str
    entity: Entity
    role: Literal["staged"] = field(default="staged", init=False)


Contract = SourceContract | GoldenContract | StagedContract


@dataclass(frozen=True)
class Project:
    """An MDM project folder, loaded: its ownership and every contract."""

    folder: Path
    ownership: Ownership
    contracts: tuple[Contract, ...]

    @property
    def sources(self) -> tuple[SourceContract, ...]:
        return tuple(c for c in self.contracts if isinstance(c, SourceContract))

    @property
    def golden(self) -> tuple[GoldenContract, ...]:
        return tuple(c for c in self.contracts if isinstance(c, GoldenContract))

    @property
    def staged(self) -> tuple[StagedContract, ...]:
        return tuple(c for c in self.contracts if isinstance(c, StagedContract))


# --- JSON schema -----------------------------------------------------------------------------


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


def _did_you_mean(word: str, known: Iterable[str]) -> str:
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
        return f"is not a field ODCS allows here{_did_you_mean(key, known)}"
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


# --- reading ---------------------------------------------------------------------------------


def _read_yaml(path: Path, file: str) -> tuple[Any, list[Problem]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return None, [Problem(file, "(file)", f"cannot be read: {exc.strerror or exc}")]
    try:
        return yaml.load(text, Loader=_YAML_LOADER), []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(parse)"
        problem = getattr(exc, "problem", None) or str(exc)
        start, context = getattr(exc, "context_mark", None), getattr(exc, "context", None)
        if start and context and mark and (start.line, start.column) != (mark.line, mark.column):
            # where what is broken began: an unclosed quote or bracket is found lines later
            problem += f" ({context} at line {start.line + 1}, column {start.column + 1})"
        return None, [Problem(file, where, f"not valid YAML: {problem}")]


def _pydantic_place(loc: Sequence[int | str], prefix: str = "") -> str:
    """A pydantic error location as a document place; a bad dict key (pydantic appends
    "[key]") is shown as the key itself."""
    parts: list[str | int] = []
    for i, part in enumerate(loc):
        if part == "[key]":
            continue
        next_is_key = i + 1 < len(loc) and loc[i + 1] == "[key]"
        parts.append(str(part) if next_is_key else part)
    here = place_of(parts)
    if not prefix:
        return here
    return (
        prefix if here == "(top level)" else f"{prefix}{'' if here.startswith('[') else '.'}{here}"
    )


def _pydantic_message(error: Mapping[str, Any], options: Iterable[str] = ()) -> str:
    kind = error["type"]
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        field_name = str(error["loc"][-1])
        return f"is not an option here{_did_you_mean(field_name, options)}; the options are " + (
            ", ".join(options)
        )
    message = str(error["msg"]).removeprefix("Value error, ")
    value = error.get("input")
    if kind == "string_type" and isinstance(value, int | float | bool):
        # YAML reads 1, 1.0, yes and no as numbers or booleans; source codes are text.
        message += f" (quote it in YAML: '{value}')"
    return message


def _custom_properties(
    items: Sequence[Mapping[str, Any]] | None, where: str, base: str, file: str
) -> tuple[dict[str, tuple[int, Any]], list[Problem]]:
    """The mdm.* custom properties of one customProperties list: name -> (index, value).

    An mdm.* name this place does not read is an error, not ignored: a misspelt or misplaced
    `mdm.mapping` would otherwise leave a source unmapped without a word."""
    found: dict[str, tuple[int, Any]] = {}
    problems: list[Problem] = []
    allowed = _MDM_PROPERTIES.get(where, ())
    for i, item in enumerate(items or ()):
        name = str(item.get("property", ""))
        if not name.startswith("mdm."):
            continue
        place = f"{base}customProperties[{i}].property"
        home = [w for w, names in _MDM_PROPERTIES.items() if name in names]
        if name in allowed and name in found:
            problems.append(Problem(file, place, f"{name!r} is given twice"))
        elif name in allowed:
            found[name] = (i, item.get("value"))
        elif home:
            problems.append(
                Problem(file, place, f"{name!r} is read from the {home[0]}'s customProperties")
            )
        else:
            every = [n for names in _MDM_PROPERTIES.values() for n in names]
            problems.append(
                Problem(
                    file,
                    place,
                    f"{name!r} is not an mdm property{_did_you_mean(name, every)};"
                    f" the mdm properties are {', '.join(every)}",
                )
            )
    return found, problems


def _properties(
    document: Mapping[str, Any], model: OpenDataContractStandard, file: str
) -> tuple[list[ContractProperty], list[Problem]]:
    problems: list[Problem] = []
    out: list[ContractProperty] = []
    raw = document["schema"][0].get("properties") or []
    seen: set[str] = set()
    for j, prop in enumerate((model.schema_ or [])[0].properties or []):
        place = f"schema[0].properties[{j}]"
        name = prop.name or ""
        if name in seen:
            problems.append(Problem(file, f"{place}.name", f"{name!r} appears twice"))
        seen.add(name)
        if not prop.logicalType:
            problems.append(Problem(file, place, "needs a logicalType"))
        pii = PII_TAG in (prop.tags or [])
        if pii and not prop.classification:
            # Masking reads the classification: a PII column without one would leak.
            problems.append(
                Problem(file, place, f"{name!r} is tagged pii and needs a classification")
            )
        out.append(
            ContractProperty(
                name=name,
                logical_type=prop.logicalType or "",
                required=bool(prop.required),
                unique=bool(prop.unique),
                primary_key=bool(prop.primaryKey),
                classification=prop.classification,
                pii=pii,
                logical_type_options=dict(prop.logicalTypeOptions or {}),
                quality=tuple(dict(q) for q in raw[j].get("quality") or ()),
            )
        )
    return out, problems


def _misplaced_mdm(document: Mapping[str, Any], file: str) -> list[Problem]:
    """mdm.* custom properties on schema objects and properties, where nothing reads them."""
    problems: list[Problem] = []
    for i, obj in enumerate(document.get("schema") or []):
        places = [(f"schema[{i}].", obj)] + [
            (f"schema[{i}].properties[{j}].", prop)
            for j, prop in enumerate(obj.get("properties") or [])
        ]
        for base, node in places:
            problems += _custom_properties(node.get("customProperties"), "schema", base, file)[1]
    return problems


def _server(
    model: OpenDataContractStandard, project_dir: Path, file: str
) -> tuple[LocalServer | None, list[Problem]]:
    servers = model.servers or []
    if len(servers) != 1:
        return None, [
            Problem(file, "servers", f"a source needs exactly one server, not {len(servers)}")
        ]
    server = servers[0]
    problems: list[Problem] = []
    if server.type != "local":
        problems.append(
            Problem(file, "servers[0].type", f"must be local (a file), not {server.type!r}")
        )
    fmt = (server.format or "").lower()
    if fmt not in get_args(FileFormat):
        problems.append(
            Problem(file, "servers[0].format", f"must be csv or parquet, not {server.format!r}")
        )
    custom, custom_problems = _custom_properties(
        [c.model_dump() for c in server.customProperties or []], "server", "servers[0].", file
    )
    problems += custom_problems
    delimiter: str | None = None
    if DELIMITER in custom:
        k, value = custom[DELIMITER]
        place = f"servers[0].customProperties[{k}].value"
        if fmt != "csv":
            problems.append(Problem(file, place, "a delimiter applies to csv files only"))
        elif not isinstance(value, str) or len(value) != 1:
            problems.append(Problem(file, place, f"must be one character, not {value!r}"))
        else:
            delimiter = value
    elif fmt == "csv":
        delimiter = ","
    encoding = server.encoding or "UTF-8"
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        problems.append(Problem(file, "servers[0].encoding", f"unknown encoding {encoding!r}"))
    else:
        if fmt == "parquet" and codec != "utf-8":
            problems.append(
                Problem(file, "servers[0].encoding", "parquet text is UTF-8 by definition")
            )
    if problems:
        return None, problems
    declared = server.path or ""
    located = LocalServer(
        path=project_dir / declared,
        declared_path=declared,
        format=cast(FileFormat, fmt),
        delimiter=delimiter,
        encoding=encoding,
    )
    return located, []


def _unknown_fields(value: Mapping[str, Any], base: str, file: str) -> list[Problem]:
    """Each mapped field the entity does not have, at its own place (the model reports them
    together, for the mapping as a whole)."""
    known = CANONICAL_FIELDS.get(str(value.get("entity")), ())
    fields = value.get("fields")
    if not known or not isinstance(fields, dict):
        return []
    return [
        Problem(
            file,
            f"{base}.fields.{name}",
            f"{name!r} is not a field of the canonical {value['entity']}"
            f"{_did_you_mean(str(name), known)}; the fields are {', '.join(known)}",
        )
        for name in fields
        if name not in known
    ]


def _mapping(
    value: Any, index: int, properties: Sequence[ContractProperty], file: str
) -> tuple[SourceMapping | None, list[Problem]]:
    base = f"customProperties[{index}].value"
    if not isinstance(value, dict):
        return None, [Problem(file, base, "the mapping must be a YAML mapping (entity, key, ...)")]
    options = tuple(FieldRule.model_fields)
    unknown = _unknown_fields(value, base, file)
    try:
        mapping = SourceMapping.model_validate(value)
    except PydanticValidationError as exc:
        return None, unknown + [
            Problem(file, _pydantic_place(e["loc"], base), _pydantic_message(e, options))
            for e in exc.errors()
            # the model reports unknown fields for the mapping as a whole; `unknown` names each
            if not (unknown and e["loc"] == ())
        ]
    columns = {p.name: j for j, p in enumerate(properties)}
    problems: list[Problem] = []

    def check(column: str, place: str) -> None:
        if column not in columns:
            problems.append(
                Problem(
                    file,
                    place,
                    f"column {column!r} is not a property of the contract's schema"
                    f"{_did_you_mean(column, columns)}",
                )
            )

    check(mapping.key, f"{base}.key")
    for name, rule in mapping.fields.items():
        if rule.column is not None:
            check(rule.column, f"{base}.fields.{name}.column")
        for j, column in enumerate(rule.columns or ()):
            check(column, f"{base}.fields.{name}.columns[{j}]")
        for column in rule.when or {}:
            check(column, f"{base}.fields.{name}.when.{column}")
    if mapping.key in columns:
        j = columns[mapping.key]
        key = properties[j]
        for flag, ok in (("primaryKey", key.primary_key), ("required", key.required)):
            if not ok:
                problems.append(
                    Problem(
                        file,
                        f"schema[0].properties[{j}].{flag}",
                        f"{key.name!r} is the mapping's key ({base}.key) and must be {flag}: true",
                    )
                )
    return (None, problems) if problems else (mapping, [])


def _golden_table(
    model: OpenDataContractStandard, file: str, role: str = "golden"
) -> tuple[str, Entity | None, list[Problem]]:
    table = (model.schema_ or [])[0].physicalName or ""
    schema_name, _, entity = table.partition(".")
    entities = get_args(Entity)
    if schema_name != role or entity not in entities:
        return (
            table,
            None,
            [
                Problem(
                    file,
                    "schema[0].physicalName",
                    f"a {role} contract names its table {role}.<entity> ({', '.join(entities)}),"
                    f" not {table!r}",
                )
            ],
        )
    return table, cast(Entity, entity), []


def _team(
    model: OpenDataContractStandard, ownership: Ownership, file: str
) -> tuple[str, list[Problem]]:
    """The contract's team name, which must be a team of ownership.yaml: no default owner."""
    team = model.team
    name = getattr(team, "name", None) or ""
    if team is None or isinstance(team, list):
        # a member list is ODCS <= 3.0.2; the team object with a name is 3.1.0+
        message = "needs a team object with a name (team: {name: <team of ownership.yaml>})"
        return name, [Problem(file, "team", message)]
    if not name:
        return name, [Problem(file, "team.name", "is required: the team of ownership.yaml")]
    if name not in ownership.teams:
        message = (
            f"contract {model.name or model.id!r} names team {name!r}, which {ownership.source}"
            f" does not define; the known teams are {', '.join(sorted(ownership.teams))}"
        )
        return name, [Problem(file, "team.name", message)]
    return name, []


def date_format(fmt: Any, *, polars: bool = True) -> tuple[str | None, str]:
    """An ODCS (JDK DateTimeFormatter) date format as Polars parses it (or, not `polars`, as
    Python's strptime does), or None and why not."""
    if not isinstance(fmt, str) or not fmt:
        return None, f"must be a date format such as yyyy-MM-dd, not {fmt!r}"
    out, i = "", 0
    while i < len(fmt):
        if fmt[i] == "'":  # a quoted literal, e.g. 'T'
            end = fmt.find("'", i + 1)
            if end < 0:
                return None, f"unterminated quote in {fmt!r}"
            out, i = out + fmt[i + 1 : end].replace("%", "%%"), end + 1
            continue
        token = next((t for t in _JAVA_DATE_TOKENS if fmt.startswith(t[0], i)), None)
        if token:
            code = token[1] if polars or not token[1].endswith("f") else "%f"
            out, i = out + code, i + len(token[0])
        elif fmt[i].isalpha():
            letters = ", ".join(t[0] for t in _JAVA_DATE_TOKENS)
            return None, f"the letter {fmt[i]!r} in {fmt!r} is not a date field ({letters})"
        else:
            out, i = out + fmt[i].replace("%", "%%"), i + 1
    return out, ""


def _retention(
    document: Mapping[str, Any],
    properties: Sequence[ContractProperty],
    object_name: str,
    role: str,
    file: str,
) -> tuple[Retention | None, list[Problem]]:
    """The retention period a source contract declares in `slaProperties`, if any."""
    found = [
        (i, item)
        for i, item in enumerate(document.get("slaProperties") or ())
        if isinstance(item, dict) and item.get("property") == RETENTION
    ]
    if not found:
        return None, []
    problems: list[Problem] = []

    def fail(place: str, message: str) -> tuple[None, list[Problem]]:
        problems.append(Problem(file, place, message))
        return None, problems

    if role != "source":
        for i, _ in found:
            fail(f"slaProperties[{i}].property", "a retention period is for source contracts only")
        return None, problems
    for i, _ in found[1:]:
        first = f"slaProperties[{found[0][0]}]"
        fail(f"slaProperties[{i}].property", f"a second retention period ({first} is one)")
    index, item = found[0]
    base = f"slaProperties[{index}]"
    value, unit, element = item.get("value"), item.get("unit"), item.get("element")
    if isinstance(value, bool) or not isinstance(value, int | float):
        fail(f"{base}.value", f"must be a number (of days, months or years), not {value!r}")
    elif not float(value).is_integer() or value <= 0:
        fail(f"{base}.value", f"must be a positive whole number, not {value!r}")
    if not isinstance(unit, str) or unit.strip().lower() not in _RETENTION_UNITS:
        what = "needs a unit" if unit is None else f"unknown unit {unit!r}"
        fail(f"{base}.unit", f"{what}; the units are {', '.join(_RETENTION_UNITS)}")
    columns = {p.name: j for j, p in enumerate(properties)}
    name = element.strip() if isinstance(element, str) else ""
    if name not in columns and "." in name:
        schema_object, _, name = name.rpartition(".")
        if schema_object != object_name:
            return fail(
                f"{base}.element",
                f"{element!r} names schema object {schema_object!r}, not {object_name!r}",
            )
    if name not in columns:
        what = f"{element!r} names no property" if name else "needs the column rows are dated by"
        return fail(
            f"{base}.element",
            f"{what}: <property> or {object_name}.<property>, one property of the schema"
            f"{_did_you_mean(name, columns)}",
        )
    prop, place = properties[columns[name]], f"schema[0].properties[{columns[name]}]"
    if prop.logical_type not in ("date", "timestamp"):
        return fail(
            f"{base}.element",
            f"{name!r} is a {prop.logical_type!r} ({place}.logicalType); rows are dated by a "
            "date or timestamp property",
        )
    options = prop.logical_type_options
    parse_format, why = None, ""
    if "format" in options:
        parse_format, why = date_format(options["format"])
    if why:
        fail(f"{place}.logicalTypeOptions.format", why)
    timezone = str(options.get("defaultTimezone") or "UTC")
    try:
        zoneinfo.ZoneInfo(timezone)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        fail(f"{place}.logicalTypeOptions.defaultTimezone", f"unknown time zone {timezone!r}")
    if problems:
        return None, problems
    retention = Retention(
        amount=int(cast(float, value)),
        unit=cast(Any, _RETENTION_UNITS[cast(str, unit).strip().lower()]),
        column=name,
        logical_type=cast(Any, prop.logical_type),
        parse_format=parse_format,
        timezone=timezone,
        place=base,
    )
    return retention, []


def load_contract(path: Path, ownership: Ownership, project_dir: Path) -> Contract:
    """Load and validate one contract file of the project in `project_dir`.

    Raises `ContractError` listing every problem found, each naming the file and the place.
    """
    file = str(path)
    document, problems = _read_yaml(path, file)
    if problems:
        raise ContractError(problems)
    if not isinstance(document, dict):
        raise ContractError([Problem(file, "(top level)", "must be a YAML mapping")])
    problems = _schema_problems(document, file)
    if problems:
        raise ContractError(problems)
    try:
        model = OpenDataContractStandard.model_validate(document)
    except PydanticValidationError as exc:
        raise ContractError(
            [Problem(file, _pydantic_place(e["loc"]), str(e["msg"])) for e in exc.errors()]
        ) from None
    return _interpret(document, model, ownership, project_dir, file, path)


def _interpret(
    document: dict[str, Any],
    model: OpenDataContractStandard,
    ownership: Ownership,
    project_dir: Path,
    file: str,
    path: Path,
) -> Contract:
    problems: list[Problem] = []

    def fail(place: str, message: str) -> None:
        problems.append(Problem(file, place, message))

    if model.apiVersion not in API_VERSIONS:
        fail("apiVersion", f"must be one of {', '.join(API_VERSIONS)}, not {model.apiVersion!r}")
    for key in ("name", "version"):
        if not document.get(key):
            fail(key, "is required")

    team_name, team_problems = _team(model, ownership, file)
    problems += team_problems

    custom, custom_problems = _custom_properties(
        document.get("customProperties"), "contract", "", file
    )
    problems += custom_problems
    problems += _misplaced_mdm(document, file)

    role = custom.get(ROLE, (None, None))[1]
    if ROLE not in custom:
        fail("customProperties", f"needs the custom property {ROLE} (source, golden or staged)")
    elif role not in get_args(Role):
        fail(
            f"customProperties[{custom[ROLE][0]}].value",
            f"must be source, golden or staged, not {role!r}",
        )
    if role not in get_args(Role):
        raise ContractError(problems)  # what else to check depends on the role

    objects = model.schema_ or []
    if len(objects) != 1:
        fail("schema", f"needs exactly one schema object, not {len(objects)}")
        raise ContractError(problems)
    if not objects[0].properties:
        fail("schema[0].properties", "needs at least one property")
        raise ContractError(problems)
    properties, property_problems = _properties(document, model, file)
    problems += property_problems
    retention, retention_problems = _retention(
        document, properties, objects[0].name or "", role, file
    )
    problems += retention_problems
    common: dict[str, Any] = {
        "file": path,
        "id": model.id or "",
        "name": model.name or "",
        "version": model.version or "",
        "team": team_name,
        "object_name": objects[0].name or "",
        "properties": tuple(properties),
        "quality": tuple(dict(q) for q in document["schema"][0].get("quality") or ()),
        "sla": tuple(dict(s) for s in document.get("slaProperties") or () if isinstance(s, dict)),
    }

    if role == "source":
        server, server_problems = _server(model, project_dir, file)
        problems += server_problems
        mapping: SourceMapping | None = None
        if MAPPING not in custom:
            fail("customProperties", f"a source needs the custom property {MAPPING}")
        else:
            index, value = custom[MAPPING]
            mapping, mapping_problems = _mapping(value, index, properties, file)
            problems += mapping_problems
        if MASKING in custom:  # sources are never published; their golden contract masks
            fail(f"customProperties[{custom[MASKING][0]}]", f"{MASKING} applies to golden only")
        if problems or server is None or mapping is None:
            raise ContractError(problems)
        return SourceContract(**common, server=server, mapping=mapping, retention=retention)

    if MAPPING in custom:
        fail(f"customProperties[{custom[MAPPING][0]}]", f"{MAPPING} applies to sources only")

    table, entity, table_problems = _golden_table(model, file, role)
    problems += table_problems
    if problems or entity is None:
        raise ContractError(problems)
    if role == "staged":
        names = {p.name for p in properties}
        for needed in ("source_system", "source_key"):  # every staged record says where from
            if needed not in names:
                fail("schema[0].properties", f"a staged contract needs the property {needed!r}")
        if MASKING in custom:
            fail(f"customProperties[{custom[MASKING][0]}]", f"{MASKING} applies to golden only")
        if problems:
            raise ContractError(problems)
        return StagedContract(**common, table=table, entity=entity)
    masks = _masks(custom, properties, fail)
    freshness = _freshness(document, fail)
    drift = _drift(custom, fail)
    if problems:
        raise ContractError(problems)
    return GoldenContract(**common, table=table, entity=entity, masks=masks, drift=drift,
                          **freshness)  # fmt: skip


def _drift(custom: Mapping[str, tuple[int, Any]], fail: Callable[[str, str], None]) -> dict:
    """A golden contract's drift limits: measure -> a positive number."""
    if DRIFT not in custom:
        return {}
    index, value = custom[DRIFT]
    place = f"customProperties[{index}].value"
    if not isinstance(value, Mapping):
        fail(place, f"maps drift measures ({', '.join(DRIFT_MEASURES)}) to limits")
        return {}
    limits = {}
    for name, limit in value.items():
        if name not in DRIFT_MEASURES:
            hint = _did_you_mean(str(name), DRIFT_MEASURES)
            fail(f"{place}.{name}", f"is not a drift measure{hint}; the measures are "
                                    f"{', '.join(DRIFT_MEASURES)}")  # fmt: skip
        elif isinstance(limit, bool) or not isinstance(limit, (int, float)) or limit <= 0:
            fail(f"{place}.{name}", f"needs a positive number, not {limit!r}")
        else:
            limits[str(name)] = float(limit)
    return limits


# units of a golden contract's frequency and latency (ODCS: d, day, days, ...)
_DURATION_UNITS = {
    **dict.fromkeys(("min", "minute", "minutes"), timedelta(minutes=1)),
    **dict.fromkeys(("h", "hr", "hour", "hours"), timedelta(hours=1)),
    **dict.fromkeys(("d", "day", "days"), timedelta(days=1)),
    **dict.fromkeys(("w", "week", "weeks"), timedelta(weeks=1)),
}


def _freshness(document: Mapping[str, Any], fail: Callable[[str, str], None]) -> dict:
    """A golden contract's `frequency` (how often it is published) and `latency` (how long a
    source change may take to reach it) from its slaProperties, as timedeltas."""
    found: dict[str, timedelta] = {}
    for i, item in enumerate(document.get("slaProperties") or ()):
        name = item.get("property")
        if name not in ("frequency", "latency"):
            continue
        value, unit = item.get("value"), str(item.get("unit", "")).lower()
        if name in found:
            fail(f"slaProperties[{i}].property", f"{name} is declared twice")
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            fail(f"slaProperties[{i}].value", f"{name} needs a positive number, not {value!r}")
        elif unit not in _DURATION_UNITS:
            fail(f"slaProperties[{i}].unit", f"{name} needs a unit of min, h, d or w, "
                                             f"not {item.get('unit')!r}")  # fmt: skip
        else:
            found[name] = value * _DURATION_UNITS[unit]
    return found


def _masks(
    custom: Mapping[str, tuple[int, Any]],
    properties: Sequence[ContractProperty],
    fail: Callable[[str, str], None],
) -> dict[str, masking.Mask]:
    """A golden contract's masks by classification; every PII column's class needs one."""
    index, value = custom.get(MASKING, (None, None))
    place = f"customProperties[{index}].value"
    masks, problems = masking.parse(value) if index is not None else ({}, [])
    for where, message in problems:
        fail(place + where, message)
    columns = {p.name: (p.classification, p.pii, p.logical_type) for p in properties}
    at = {p.name: j for j, p in enumerate(properties)}
    for name, message in masking.check_columns(masks, columns):
        fail(f"schema[0].properties[{at[name]}]", message)
    return masks


def contract_files(project_dir: Path) -> list[Path]:
    """The contract files of a project folder, in name order."""
    return sorted((Path(project_dir) / CONTRACTS_DIR).glob(CONTRACT_GLOB))


def load_project_contracts(project_dir: Path | str, ownership: Ownership) -> list[Contract]:
    """Every contract of the project folder `project_dir`, validated.

    All files are checked before anything is raised, so one `ContractError` lists every broken
    contract at once. Contract ids, names and golden tables must be unique across the project.
    """
    contracts, problems = check_project_contracts(project_dir, ownership)
    if problems:
        raise ContractError(problems)
    return contracts


def check_project_contracts(
    project_dir: Path | str, ownership: Ownership
) -> tuple[list[Contract], list[Problem]]:
    """Every contract of `project_dir` that loads, and every problem of every file (one broken
    contract hides nothing of another), with the project's duplicate ids, names and tables."""
    project_dir = Path(project_dir)
    folder = project_dir / CONTRACTS_DIR
    files = contract_files(project_dir)
    if not files:
        return [], [Problem(str(folder), "(folder)", f"holds no {CONTRACT_GLOB} files")]
    contracts: list[Contract] = []
    problems: list[Problem] = []
    for path in files:
        try:
            contracts.append(load_contract(path, ownership, project_dir))
        except ContractError as exc:
            problems.extend(exc.problems)
    problems.extend(_duplicates(contracts))
    return contracts, problems


def _duplicates(contracts: Sequence[Contract]) -> Iterator[Problem]:
    for attribute, place in (("id", "id"), ("name", "name"), ("table", "schema[0].physicalName")):
        first: dict[str, Path] = {}
        for contract in contracts:
            value = getattr(contract, attribute, None)
            if value is None:
                continue
            if value in first:
                yield Problem(
                    str(contract.file),
                    place,
                    f"{value!r} is already used by {first[value]}; it must be unique",
                )
            else:
                first[value] = contract.file


def load_project(project_dir: Path | str) -> Project:
    """Load an MDM project folder: its ownership.yaml, then every contract against it."""
    project_dir = Path(project_dir)
    ownership = load_ownership(project_dir / OWNERSHIP_FILE)
    contracts = load_project_contracts(project_dir, ownership)
    return Project(folder=project_dir, ownership=ownership, contracts=tuple(contracts))


__all__ = [
    "API_VERSIONS",
    "Contract",
    "ContractError",
    "ContractProperty",
    "GoldenContract",
    "LocalServer",
    "Problem",
    "Project",
    "Retention",
    "SourceContract",
    "check_project_contracts",
    "contract_files",
    "load_contract",
    "load_project",
    "load_project_contracts",
    "place_of",
]
