"""matching.yaml: per-entity match settings. Every value has a working default, so a project
folder may omit the file entirely."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from matching.resolve import Settings
from matching.survive import RULES, Survivorship

SETTINGS_FILE = "matching.yaml"


class SurvivorshipSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source_trust: list[str] = Field(default_factory=list)  # most trusted source system first
    rules: dict[str, list[str]] = Field(default_factory=dict)  # attribute -> rule chain

    def to_matching(self) -> Survivorship:
        for attribute, chain in self.rules.items():
            unknown = sorted(set(chain) - set(RULES))
            if unknown:
                raise ValueError(f"survivorship.rules.{attribute}: unknown rule(s) {unknown}; "
                                 f"known: {list(RULES)}")  # fmt: skip
        return Survivorship(tuple(self.source_trust), {k: tuple(v) for k, v in self.rules.items()})


class EntitySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    threshold: float = Field(0.9, gt=0.0, lt=1.0)
    review_threshold: float = Field(0.5, gt=0.0, lt=1.0)
    conflict: float = Field(0.01, ge=0.0, lt=1.0)
    conflict_bits: float = Field(6.64, gt=0.0)
    # a steward's decisions: a CSV of left_system, left_key, right_system, right_key, match
    # (true/false), relative to the project folder
    labels: str | None = None
    max_block: int = Field(50, ge=2)
    pair_budget: int = Field(50_000_000, ge=1)
    random_pairs: int = Field(200_000, ge=1_000)
    chunk_pairs: int = Field(2_000_000, ge=10_000)  # pairs scored at a time: bounds memory
    survivorship: SurvivorshipSettings = Field(default_factory=SurvivorshipSettings)

    @model_validator(mode="after")
    def _band(self) -> EntitySettings:
        if self.review_threshold > self.threshold:
            raise ValueError(
                f"review_threshold {self.review_threshold} is above threshold "
                f"{self.threshold}: the review band runs from the one to the other"
            )
        return self

    def to_matching(self) -> Settings:
        return Settings(threshold=self.threshold, review_threshold=self.review_threshold,
                        conflict=self.conflict, conflict_bits=self.conflict_bits,
                        max_block=self.max_block, pair_budget=self.pair_budget,
                        random_pairs=self.random_pairs,
                        chunk_pairs=self.chunk_pairs)  # fmt: skip


class CostSettings(BaseModel):
    """Prices for a run's estimated cost in audit.runs (US dollars; roughly a public cloud's)."""

    model_config = ConfigDict(extra="forbid")

    cpu_hour: float = Field(0.05, ge=0)  # one core for an hour
    gb_month: float = Field(0.023, ge=0)  # a GB stored for a month


class MatchSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer: EntitySettings = Field(default_factory=EntitySettings)
    account: EntitySettings = Field(default_factory=EntitySettings)
    contract: EntitySettings = Field(default_factory=EntitySettings)
    cost: CostSettings = Field(default_factory=CostSettings)


class SettingsError(ValueError):
    """matching.yaml does not hold valid settings; the message names the file and place."""


def load_settings(project_dir: Path) -> MatchSettings:
    path = Path(project_dir) / SETTINGS_FILE
    if not path.exists():
        return MatchSettings()
    try:
        data = yaml.safe_load(path.read_text()) or {}
        settings = MatchSettings.model_validate(data)
        for name in ("customer", "account", "contract"):
            getattr(settings, name).survivorship.to_matching()
        return settings
    except ValidationError as exc:
        first = exc.errors()[0]
        place = ".".join(str(p) for p in first["loc"])
        raise SettingsError(f"{path}: {place}: {first['msg']}") from None
    except ValueError as exc:
        raise SettingsError(f"{path}: {exc}") from None
