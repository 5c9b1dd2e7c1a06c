"""What a contract is once read: its properties, server, retention, and the source, golden
and staged contracts of a project, with the names of the `mdm.*` custom properties."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import yaml

from matching.mapping import Entity, SourceMapping

from .. import masking
from ..ownership import Ownership

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
_OFFSET_UNITS = {"days": "d", "months": "mo", "years": "y"}


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
