"""How a source dataset's columns become the canonical model: typed, declarative rules.

A source contract carries one `SourceMapping` (in its `customProperties`, see the README's
"Onboarding a source"); `matching.standardize` applies it to a frame. Nothing here reads files.

Example (the billing system's customers)::

    SourceMapping(
        entity="customer", source_system="billing", key="cust_no",
        fields={
            "party_type": FieldRule(column="cust_type", values={"P": "person"}),
            "full_name": FieldRule(column="name", when={"cust_type": "P"}, layout="auto"),
            "organization_name": FieldRule(column="name", when={"cust_type": "B"}),
            "birth_date": FieldRule(column="dob", formats=["%d/%m/%Y", "%d.%m.%Y"]),
        },
    )
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

Entity = Literal["customer", "account", "contract"]

# The canonical customer model (DESIGN.md), without the lineage columns every entity carries.
CUSTOMER_FIELDS: tuple[str, ...] = (
    "party_type",
    "given_name",
    "family_name",
    "full_name",
    "organization_name",
    "email",
    "phone",
    "address_line",
    "city",
    "postcode",
    "region",
    "country",
    "birth_date",
    "tax_id",
    "source_updated_at",
)
# An account and a contract (DESIGN.md). `*_ref` fields hold a source key of the record's own
# system: the parent record they belong to (matching.hierarchy resolves them).
ACCOUNT_FIELDS: tuple[str, ...] = (
    "account_number",
    "iban",
    "account_name",
    "customer_ref",
    "status",
    "opened_at",
    "currency",
    "source_updated_at",
)
CONTRACT_FIELDS: tuple[str, ...] = (
    "contract_number",
    "account_ref",
    "customer_ref",
    "product",
    "start_date",
    "end_date",
    "amount",
    "currency",
    "status",
    "source_updated_at",
)
CANONICAL_FIELDS: dict[str, tuple[str, ...]] = {
    "customer": CUSTOMER_FIELDS,
    "account": ACCOUNT_FIELDS,
    "contract": CONTRACT_FIELDS,
}
# The references a record of each entity must (True) or may (False) carry to its parents.
REQUIRED_REFERENCES: dict[str, dict[str, bool]] = {
    "customer": {},
    "account": {"customer_ref": True},
    "contract": {"account_ref": True, "customer_ref": False},
}
DATE_FIELDS = frozenset({"birth_date", "opened_at", "start_date", "end_date", "source_updated_at"})
NUMBER_FIELDS = frozenset({"amount"})

NameLayout = Literal["given_family", "family_given", "auto"]


def _one_or_many(value: Any) -> Any:
    """A `when` condition is one text or a list of texts; anything else is an error."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(value)
    raise PydanticCustomError("string_type", "Input should be a valid string")


Texts = Annotated[tuple[str, ...], BeforeValidator(_one_or_many)]


class FieldRule(BaseModel):
    """Where one canonical field comes from.

    Exactly one of `column` (copy), `columns` (join the non-empty ones with `separator`) or
    `constant`. `formats` parses dates (strptime codes, tried in order); `values` maps raw
    codes to canonical ones (unmapped codes become null and count as defects); `when` keeps
    the value only on rows whose columns hold the given value (or one of a list); `layout`
    says how a `full_name` is ordered (`auto`: "Family, Given" when there is a comma, else
    given first); `missing` lists values that mean "no value" (SAP's end date 99991231 for an
    open-ended contract), nulled without counting as defects; `decimal` is the decimal mark of
    a number (`","`: "1.234,56"; the other mark is a thousands separator and is dropped).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str | None = None
    columns: tuple[str, ...] | None = None
    separator: str = " "
    constant: str | None = None
    formats: tuple[str, ...] | None = None
    values: dict[str, str] | None = None
    when: dict[str, Texts] | None = None
    layout: NameLayout | None = None
    missing: tuple[str, ...] | None = None
    decimal: Literal[".", ","] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> FieldRule:
        given = [x is not None for x in (self.column, self.columns, self.constant)]
        if sum(given) != 1:
            raise ValueError("a field rule needs exactly one of column, columns or constant")
        return self

    def source_columns(self) -> tuple[str, ...]:
        """Every source column this rule reads, conditions included."""
        own = (self.column,) if self.column else (self.columns or ())
        return tuple(own) + tuple(self.when or {})


class SourceMapping(BaseModel):
    """The mapping of one source dataset onto one canonical entity."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    entity: Entity
    source_system: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    key: str
    fields: dict[str, FieldRule]
    default_country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")

    @model_validator(mode="after")
    def _known_fields(self) -> SourceMapping:
        known = CANONICAL_FIELDS[self.entity]
        unknown = sorted(set(self.fields) - set(known))
        if unknown:
            raise ValueError(
                f"unknown {self.entity} field(s) {unknown}; the canonical fields are {list(known)}"
            )
        for name, rule in self.fields.items():
            if rule.formats and name not in DATE_FIELDS:
                raise ValueError(f"{name}: formats apply only to {sorted(DATE_FIELDS)}")
            if rule.layout and name != "full_name":
                raise ValueError(f"{name}: layout applies only to full_name")
            if rule.decimal and name not in NUMBER_FIELDS:
                raise ValueError(f"{name}: decimal applies only to {sorted(NUMBER_FIELDS)}")
        absent = [ref for ref, required in REQUIRED_REFERENCES[self.entity].items()
                  if required and ref not in self.fields]  # fmt: skip
        if absent:
            raise ValueError(f"{self.entity} records must map {absent}: the source key of the "
                             "record they belong to")  # fmt: skip
        return self

    def source_columns(self) -> tuple[str, ...]:
        cols = [self.key]
        for rule in self.fields.values():
            cols.extend(c for c in rule.source_columns() if c not in cols)
        return tuple(cols)
