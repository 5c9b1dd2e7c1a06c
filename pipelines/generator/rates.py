"""Corruption and hard-negative rates of the sample-data generator.

Every rate is a probability in [0, 1]; what it is a share *of* is said beside it (the README's
"Sample data" section has the same table). Defaults are at least as hard as issue #2 asks.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class Rates(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # population
    organization_share: float = Field(0.30, ge=0.0, le=1.0)  # of entities
    within_system_duplicate: float = Field(0.08, ge=0.0, le=1.0)  # of entities with >= 2 records
    married_share: float = Field(0.55, ge=0.0, le=1.0)  # of women aged 25+
    # names (per person / organisation source record)
    given_typo: float = Field(0.04, ge=0.0, le=1.0)
    family_typo: float = Field(0.05, ge=0.0, le=1.0)
    organization_typo: float = Field(0.05, ge=0.0, le=1.0)
    nickname: float = Field(0.15, ge=0.0, le=1.0)  # of person records whose given name has one
    swapped_names: float = Field(0.03, ge=0.0, le=1.0)
    legacy_layout: float = Field(0.15, ge=0.0, le=1.0)  # of ERP person records: "SURNAME GIVEN"
    last_first_layout: float = Field(
        0.45, ge=0.0, le=1.0
    )  # of billing person records: "LAST, First"
    accents_stripped: float = Field(
        0.20, ge=0.0, le=1.0
    )  # of records (visible where text has accents)
    legal_form_variant: float = Field(0.60, ge=0.0, le=1.0)  # of organisation records
    maiden_name: float = Field(0.30, ge=0.0, le=1.0)  # of married women with >= 2 records
    # addresses
    street_abbreviated: float = Field(0.35, ge=0.0, le=1.0)  # of records
    moved: float = Field(0.12, ge=0.0, le=1.0)  # of entities with >= 2 records: old address in one
    # contact points and dates (per record)
    email_typo: float = Field(0.03, ge=0.0, le=1.0)
    email_variant: float = Field(0.10, ge=0.0, le=1.0)  # case, gmail dots / +tag / googlemail
    phone_alt_format: float = Field(0.30, ge=0.0, le=1.0)  # a format other than the system's own
    birth_date_error: float = Field(0.03, ge=0.0, le=1.0)  # of person records with a birth date
    date_alt_format: float = Field(0.10, ge=0.0, le=1.0)  # of dates: the system's second format
    junk: float = Field(0.01, ge=0.0, le=1.0)  # of records: one field holds a placeholder
    missing_email: float = Field(0.12, ge=0.0, le=1.0)
    missing_phone: float = Field(0.15, ge=0.0, le=1.0)
    missing_birth_date: float = Field(0.12, ge=0.0, le=1.0)  # of CRM and ERP person records
    missing_birth_date_billing: float = Field(0.60, ge=0.0, le=1.0)  # of billing person records
    # hard negatives (share of entities planted as the partner of another entity)
    namesake: float = Field(0.04, ge=0.0, le=1.0)  # of persons
    twin: float = Field(0.02, ge=0.0, le=1.0)  # of persons
    jr_sr: float = Field(0.02, ge=0.0, le=1.0)  # of persons
    lookalike_organization: float = Field(0.06, ge=0.0, le=1.0)  # of organisations
    # accounts and contracts
    account_duplicate: float = Field(0.04, ge=0.0, le=1.0)  # of billing account records
    contract_duplicate: float = Field(0.08, ge=0.0, le=1.0)  # of contracts: re-keyed twice in ERP
    iban_typo: float = Field(0.01, ge=0.0, le=1.0)  # of account records with an IBAN
    orphan_reference: float = Field(0.005, ge=0.0, le=1.0)  # of foreign keys: a key that is absent


class RateError(ValueError):
    """A `--rate name=value` override that names no rate or holds no probability."""


def with_overrides(rates: Rates, overrides: list[str] | tuple[str, ...]) -> Rates:
    """Return `rates` with `name=value` overrides applied, e.g. ``["given_typo=0.1"]``."""
    values = rates.model_dump()
    for item in overrides:
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep or name not in values:
            known = ", ".join(sorted(values))
            raise RateError(f"--rate {item!r}: expected NAME=VALUE with NAME one of: {known}")
        try:
            values[name] = float(raw)
        except ValueError:
            raise RateError(f"--rate {item!r}: {raw!r} is not a number") from None
    try:
        return Rates(**values)
    except ValidationError as exc:
        raise RateError(f"--rate: {exc.errors()[0]['loc'][0]} must be between 0 and 1") from None
