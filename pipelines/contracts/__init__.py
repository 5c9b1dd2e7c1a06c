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
import functools
import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, cast, get_args

import yaml
from open_data_contract_standard.model import OpenDataContractStandard
from pydantic import ValidationError as PydanticValidationError

from matching.mapping import CANONICAL_FIELDS, Entity, FieldRule, SourceMapping

from ..ownership import Ownership, load_ownership
from .model import (
    _MDM_PROPERTIES,
    _YAML_LOADER,
    API_VERSIONS,
    CONTRACT_GLOB,
    CONTRACTS_DIR,
    DELIMITER,
    MAPPING,
    MASKING,
    OWNERSHIP_FILE,
    PII_TAG,
    ROLE,
    Contract,
    ContractError,
    ContractProperty,
    FileFormat,
    GoldenContract,
    LocalServer,
    Problem,
    Project,
    Retention,
    Role,
    SourceContract,
    StagedContract,
)
from .schema import _schema_problems, did_you_mean, place_of
from .sla import _drift, _freshness, _masks, _retention, date_format

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
        return f"is not an option here{did_you_mean(field_name, options)}; the options are " + (
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
                    f"{name!r} is not an mdm property{did_you_mean(name, every)};"
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
            f"{did_you_mean(str(name), known)}; the fields are {', '.join(known)}",
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
                    f"{did_you_mean(column, columns)}",
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
    """Load an MDM project folder: its ownership.yaml, then every contract against it.

    Parsed once per process for the same file contents: a run loads its project when its
    definitions are built and again when it is recorded (the contract versions it ran), and
    validating 13 contracts against the ODCS schema takes ~1 s. A changed file is read anew."""
    project_dir = Path(project_dir)
    # the folder as given (what the contracts' paths are relative to) and where it is now: a
    # relative folder in another working directory is another project
    return _load_project(project_dir, project_dir.resolve(), _fingerprint(project_dir))


def _fingerprint(project_dir: Path) -> str:
    """A digest of the names and bytes of every file `load_project` reads."""
    digest = hashlib.sha256()
    for path in [project_dir / OWNERSHIP_FILE, *contract_files(project_dir)]:
        try:
            content = path.read_bytes()
        except OSError:  # the loader reports it
            content = b"\0unreadable"
        digest.update(f"{path.name}\0{len(content)}\0".encode() + content)
    return digest.hexdigest()


@functools.lru_cache(maxsize=8)
def _load_project(project_dir: Path, where: Path, fingerprint: str) -> Project:
    # a project that does not load raises, and nothing is kept
    ownership = load_ownership(project_dir / OWNERSHIP_FILE)
    contracts = load_project_contracts(project_dir, ownership)
    return Project(folder=project_dir, ownership=ownership, contracts=tuple(contracts))


__all__ = [
    "API_VERSIONS",
    "OWNERSHIP_FILE",
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
    "date_format",
    "load_contract",
    "load_project",
    "load_project_contracts",
    "place_of",
]
