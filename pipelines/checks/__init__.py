"""Contract rules as Dagster asset checks, evaluated with Great Expectations 1.x (sql: DuckDB).

Every contract becomes the checks of one asset: a source contract checks
``raw/<source_system>_<object_name>`` (every column text, as landed), the golden contract checks
``golden/<entity>`` (typed columns), each read from its Parquet intermediate. The rules are
translated once, when the definitions are built; a rule this module cannot evaluate is a
`ContractError` then, naming the contract file and the rule's place
(``contracts/billing_customers.odcs.yaml: schema[0].properties[3].quality[1]: ...``).

What becomes a check (check name, Great Expectations expectation; blocking or not):

- every ``required: true`` column exists (``schema``; expect_column_to_exist, and for typed data
  such as golden tables each column's Parquet type against its logicalType) - blocking;
- ``required: true`` (``<col>_not_null``; expect_column_values_to_not_be_null) - blocking;
- ``unique: true`` or a one-column ``primaryKey`` (``<col>_unique``;
  expect_column_values_to_be_unique) - blocking; a primary key of several columns
  (``primary_key_unique``; expect_compound_columns_to_be_unique) - blocking;
- a text column's ``logicalType`` (``<col>_type``): integer, number, boolean, timestamp and time
  by expect_column_values_to_match_regex, date by expect_column_values_to_match_strftime_format
  (its ``logicalTypeOptions.format``, default yyyy-MM-dd; so 30/02 fails); string: no check -
  warning;
- ``logicalTypeOptions.pattern`` (``<col>_pattern``; expect_column_values_to_match_regex, a
  search as in JSON schema) - warning;
- ``minLength``/``maxLength`` (``<col>_length``; expect_column_value_lengths_to_be_between) -
  warning;
- ``minimum``/``maximum``/``exclusiveMinimum``/``exclusiveMaximum`` of integer and number
  (``<col>_range``; expect_column_values_to_be_between, on a text column's numeric value) -
  warning;
- the ODCS library metrics, blocking when ``severity: error``:
  ``nullValues`` (``<col>_nullValues``; expect_column_values_to_not_be_null),
  ``missingValues`` (``<col>_missingValues``; expect_column_values_to_not_be_in_set, plus
  expect_column_values_to_not_be_null when the list holds null),
  ``invalidValues`` (``<col>_invalidValues``; expect_column_values_to_be_in_set for
  ``validValues``, expect_column_values_to_match_regex for ``pattern``),
  ``duplicateValues`` (``<col>_duplicateValues``; expect_column_values_to_be_unique; on the
  schema object with ``arguments.properties``: ``duplicateValues``,
  expect_compound_columns_to_be_unique) and
  ``rowCount`` (``rowCount``; expect_table_row_count_to_be_between, for its observed value);
- ``type: sql`` rules (the rule's ``name``, else ``<col>_sql`` / ``sql``, then ``_2``, ...;
  DuckDB, not Great Expectations), blocking when ``severity: error``: the ``query`` returns one
  number, compared with the rule's operator as a metric's count is (``unit`` other than rows is
  a load-time error). ``${table}`` / ``${object}`` / ``{object}`` stand for the asset's data,
  on a property ``${column}`` / ``${property}`` / ``{property}`` for its column; each becomes a
  quoted identifier (the data is the relation ``<layer>_<name>``, e.g.
  ``raw_billing_customers``), never a value. Each query runs in a fresh in-memory DuckDB where
  the asset's Parquet file is registered as an Arrow dataset (scanned lazily, only the columns
  the query names) and file, network and extension access are then switched off and locked: the
  query can read that data and nothing else. No row, several rows or columns, a text, null or a
  SQL error fail the check, with the reason (quoted data values redacted) in its metadata;
- ``type: custom`` rules with ``engine: great-expectations`` (the rule's ``name``, else
  ``<col>_custom`` / ``custom``), blocking when ``severity: error``: ``implementation`` names one
  expectation, ``{type: expect_column_values_to_be_between, kwargs: {min_value: 0}}`` (also as
  YAML/JSON text, with ``expectation_type``, or by class name, ExpectColumnValuesToBeBetween); on
  a property ``column`` defaults to it. It joins the asset's validation of its kind (blocking
  rules or warnings) and passes when the expectation succeeds; its metadata shows the
  expectation, its arguments, GE's unexpected count and percent (of non-null values), and
  failing keys as for the metrics.

Pass or fail is decided here, not by Great Expectations: each expectation measures (failing
rows, or the row count), and the rule's ODCS operator (``mustBe``, ``mustNotBe``,
``mustBeGreaterThan``, ``mustBeGreaterOrEqualTo``, ``mustBeLessThan``,
``mustBeLessOrEqualTo``, ``mustBeBetween`` and ``mustNotBeBetween``, both bounds inclusive) is
applied to that count, or with ``unit: percent`` to ``100 * failing / rows`` (all rows of the
asset, nulls included). Implicit rules (required, unique, primary key, logical type, pattern,
length, range) must have no failing row. Counting follows Great Expectations: nulls are neither
invalid, missing (unless ``missingValues`` lists null) nor duplicated; ``duplicateValues``
counts every row whose value occurs more than once. Logical-type options not listed above
(``format: email``, ``multipleOf``, date bounds) are descriptive and not checked.

Blocking: ``severity: error`` and the implicit required / unique / primary-key rules (and
``schema``) make the check blocking (`AssetCheckSpec(blocking=True)`, results of severity
ERROR): downstream assets do not run when it fails. ``warning``, ``info`` or no severity is a
warning: reported with severity WARN, never blocking. A contract's explicit rule replaces the
implicit one of the same meaning on that column (``nullValues`` replaces ``<col>_not_null``,
``duplicateValues`` replaces ``<col>_unique``), so the contract decides the tolerance and the
severity, e.g. that a few null keys are quarantined and only more than 1% stop the run.

Not evaluated, hence load-time errors: a metric at the wrong level, missing or unexpected
arguments, a regex Python cannot compile, a threshold that is not a number, ``unit`` other than
rows/percent, a percent ``rowCount`` and a severity other than error/warning/info; a sql query
that DuckDB cannot parse or that is not ONE SELECT (or WITH ... SELECT) statement (COPY, CREATE,
ATTACH, SET, INSTALL, two statements: parsed by `duckdb` ``extract_statements``, never run), an
unknown ``${...}`` placeholder and ``${column}`` on the schema object; a custom rule on another
engine, an expectation Great Expectations does not have (or one this project cannot run: those
issuing their own query or comparing the table's whole column list), arguments the expectation
rejects (it is built when the contract loads: its pydantic validation speaks) or sets itself
(``meta``, ``result_format``, ...), a non-GE ``condition_parser``, and a column the contract
does not declare. Great Expectations is imported to load a contract only when it has a custom
rule (the import costs ~5 s). ``type: text`` rules are documentation and make no check
(`pipelines.assets` lists them in the asset's metadata).

Each asset's checks are at most two `dg.multi_asset_check`s: its blocking rules
(``<asset>_contract``) and its warnings (``<asset>_contract_warnings``). Dagster holds the assets
downstream until every step holding a blocking check of their upstream has ended, so the warnings
have a step of their own: they run beside the next step, not before it (at a million entities
their regular expressions were half the ~20 s of contract checks between the heavy steps). Each
reads only the columns its selected rules need (plus the key column and the ``_record``/``_line``
locators the landing adds), and runs ONE validation with its rules (sql rules beside it, one
DuckDB query each). Each
result's metadata carries the expectation(s) it ran (or the query, its value and time), the
failing count and percent, the operator and threshold, and up to 20 failing keys (the contract's
key for sources; the primary key, ``golden_id``, for golden) and record numbers; never a value
of a PII-tagged or classified column (failing values are shown only for unclassified columns
other than the key).

Owners: Dagster 1.13's `AssetCheckSpec` has no ``owners`` (and its snapshot keeps no spec
metadata), so a check's owners - the contract team's owners from ownership.yaml, the same as
its asset's - are carried where Dagster keeps them: the check's description (shown in the UI),
the spec metadata (``owners``, ``team``, read by code such as ``mdm owners``), the op tag
``mdm/team`` of the check's step, and each result's metadata.
"""

# No `from __future__ import annotations` here: Dagster reads the check's `context` annotation
# as a type, not as text.
import time
from collections.abc import Iterable, Iterator

import dagster as dg
from dagster import AssetCheckExecutionContext

from ..contracts import Project
from ..warehouse import WarehouseResource
from .evaluate import SAMPLE_SIZE, SQL_TIMEOUT_SECONDS, import_in_background, validate_suite
from .rules import asset_suites, contract_rules
from .suite import AssetSuite, CheckRule, Expectation, Threshold


def _spec(suite: AssetSuite, rule: CheckRule) -> dg.AssetCheckSpec:
    kind = "blocking" if rule.blocking else "warning"
    text = rule.description or rule.rule
    description = (
        f"{text} [{rule.rule}; {kind}; {suite.contract.file.name} {rule.place}]"
        f" Owners: {', '.join(suite.owners)}."
    )
    return dg.AssetCheckSpec(
        rule.name,
        asset=suite.asset_key,
        description=description,
        blocking=rule.blocking,
        metadata={
            "contract": str(suite.contract.file),
            "place": rule.place,
            "rule": rule.rule,
            "severity": rule.severity,
            "expectations": [e.type for e in rule.expectations],
            **({"query": rule.query} if rule.measure == "sql" else {}),
            "team": suite.team,
            "owners": list(suite.owners),
        },
    )


def suite_checks(suite: AssetSuite) -> list[dg.AssetChecksDefinition]:
    """The checks of every rule of `suite`: one multi-asset check for its blocking rules
    (``<asset>_contract``) and one for its warnings (``<asset>_contract_warnings``), either
    left out when the suite has no such rule. Each is one Great Expectations validation, and
    a DuckDB query per sql rule."""
    gate = [r for r in suite.rules if r.blocking]
    warnings = [r for r in suite.rules if not r.blocking]
    return [_checks(suite, rules, suffix) for rules, suffix in
            ((gate, "contract"), (warnings, "contract_warnings")) if rules]  # fmt: skip


def _checks(suite: AssetSuite, rules: list[CheckRule], suffix: str) -> dg.AssetChecksDefinition:
    kind = "blocking rules" if suffix == "contract" else "warnings"

    @dg.multi_asset_check(
        specs=[_spec(suite, r) for r in rules],
        name=f"{suite.asset_key.to_python_identifier()}_{suffix}",
        description=f"{suite.contract.name}: the {kind} of {suite.contract.file.name}, "
        "in one Great Expectations validation (sql rules: DuckDB). "
        f"Owners: {', '.join(suite.owners)}.",
        can_subset=True,
        op_tags={"mdm/team": suite.team},
    )
    def contract_checks(
        context: AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> Iterator[dg.AssetCheckResult]:
        names = [k.name for k in context.selected_asset_check_keys]
        started = time.perf_counter()
        results = validate_suite(suite, warehouse.intermediate(*suite.location), names)
        failed = [r.check_name for r in results if not r.passed]
        context.log.info(
            f"{suite.asset_key.to_user_string()}: {len(results)} contract checks ({kind}) in "
            f"{time.perf_counter() - started:.2f} s; failed: {', '.join(failed) or 'none'}"
        )
        yield from results

    return contract_checks


def build_checks(
    project: Project, asset_keys: Iterable[dg.AssetKey] | None = None
) -> list[dg.AssetChecksDefinition]:
    """The contract checks of `project`, `suite_checks` of each contract whose asset is in
    `asset_keys` (default: all). Every contract's rules are translated, so a rule the project
    cannot evaluate raises `ContractError` even when its asset is not built yet."""
    suites = asset_suites(project)
    built = set(asset_keys) if asset_keys is not None else None
    return [check for s in suites if built is None or s.asset_key in built
            for check in suite_checks(s)]  # fmt: skip


__all__ = [
    "SAMPLE_SIZE",
    "SQL_TIMEOUT_SECONDS",
    "AssetSuite",
    "CheckRule",
    "Expectation",
    "Threshold",
    "asset_suites",
    "build_checks",
    "contract_rules",
    "import_in_background",
    "suite_checks",
    "validate_suite",
]
