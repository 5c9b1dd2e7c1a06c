"""A contract's declarations about time and exposure: a source's retention period, a golden
table's freshness (frequency, latency) and drift limits, and its masks by classification; and
the ODCS date formats they and the type checks read."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any, cast

from .. import masking
from .model import DRIFT, DRIFT_MEASURES, MASKING, RETENTION, ContractProperty, Problem, Retention
from .schema import did_you_mean

# ODCS's (ISO) spellings of its unit -> the unit, and Polars' calendar offset for it.
_RETENTION_UNITS = {
    **dict.fromkeys(("d", "day", "days"), "days"),
    **dict.fromkeys(("m", "month", "months"), "months"),
    **dict.fromkeys(("y", "yr", "year", "years"), "years"),
}
# JDK DateTimeFormatter letters (ODCS date formats) -> % codes, longest first. Fractions of a
# second: Polars parses %6f and %3f, Python's strptime (Great Expectations' checks) only %f.
_JAVA_DATE_TOKENS = (
    ("yyyy", "%Y"), ("yy", "%y"), ("MMMM", "%B"), ("MMM", "%b"), ("MM", "%m"), ("dd", "%d"),
    ("HH", "%H"), ("mm", "%M"), ("ss", "%S"), ("SSSSSS", "%6f"), ("SSS", "%3f"),
)  # fmt: skip


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
            f"{did_you_mean(name, columns)}",
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
            hint = did_you_mean(str(name), DRIFT_MEASURES)
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
