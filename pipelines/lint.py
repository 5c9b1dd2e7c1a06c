"""`mdm contracts lint`: every problem of a project's contracts, in one go, without running.

Linting loads a project's contracts as `pipelines.contracts` does (ODCS JSON schema, the ODCS
pydantic model, the team in ownership.yaml, ``mdm.*`` custom properties, masking, retention) and
then translates every quality rule into checks as `pipelines.checks` does, so a rule the
project cannot evaluate is found here and not when `mdm run` builds its definitions. Unlike
loading, linting stops at nothing: each file is checked on its own (one broken contract hides
nothing of another), a broken ownership.yaml is reported and the contracts are still checked
against the teams it names, and ids, names and golden tables must be unique across the project.
Once all that is clean, the project's Dagster definitions are built as `mdm run` builds them (an
entity needs its golden contract and its parents' sources; matching.yaml must be usable): a
project that lints clean loads.

Great Expectations is imported only when a contract has a ``type: custom`` rule (as for the
definitions): linting a project without one takes about as long as importing Dagster.

Example::

    report = lint_project(Path("."))
    for problem in report.problems:
        print(problem)  # contracts/crm_contacts.odcs.yaml: team.name: contract ...
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .checks import contract_rules
from .contracts import (
    CONTRACTS_DIR,
    OWNERSHIP_FILE,
    ContractError,
    Problem,
    check_project_contracts,
    contract_files,
)
from .ownership import Ownership, OwnershipError, load_ownership


@dataclass(frozen=True)
class LintReport:
    """What linting a project found: its contract files, in name order, and every problem."""

    files: tuple[Path, ...]
    problems: tuple[Problem, ...]

    def of(self, file: Path) -> list[Problem]:
        """The problems of one contract file."""
        return [p for p in self.problems if p.file == str(file)]

    @property
    def project_problems(self) -> list[Problem]:
        """Problems of no contract file: ownership.yaml, an empty contracts folder."""
        named = {str(f) for f in self.files}
        return [p for p in self.problems if p.file not in named]

    def lines(self) -> list[str]:
        """Each contract file's problems (`path: place: message`, or `path: OK`), then the
        project's, then a summary."""
        out: list[str] = []
        for file in self.files:
            here = self.of(file)
            out += [str(p) for p in here] if here else [f"{file}: OK"]
        out += [str(p) for p in self.project_problems]
        files, problems = len(self.files), len(self.problems)
        out.append(f"{files} contract{'s' * (files != 1)}, "
                   f"{problems} problem{'s' * (problems != 1)}")  # fmt: skip
        return out


class _AnyTeam(dict):
    """The teams of an ownership.yaml that cannot be read: any name is taken as known (the file's
    own problem is reported), so the contracts are still checked for everything else."""

    def __contains__(self, name: object) -> bool:
        return True


def _ownership(path: Path) -> tuple[Ownership, list[Problem]]:
    """The project's ownership; when it is broken, its problems and a stand-in with the team
    names it declares, which is what a contract's team.name is checked against."""
    try:
        return load_ownership(path), []
    except OwnershipError as exc:
        problems = [_ownership_problem(line, str(path)) for line in exc.problems]
    teams: dict[str, Any] = _AnyTeam()
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        document = None
    declared = document.get("teams") if isinstance(document, Mapping) else None
    if isinstance(declared, Mapping) and declared:
        teams = dict.fromkeys(str(name) for name in declared)
    stand_in = Ownership.model_construct(teams=teams)
    stand_in._source = str(path)
    return stand_in, problems


def _ownership_problem(line: str, file: str) -> Problem:
    """An ownership.yaml problem line (``<file>: <place>: <message>``) as a `Problem`."""
    rest = line.removeprefix(f"{file}: ")
    place, _, message = rest.partition(": ")
    return Problem(file, place, message) if message else Problem(file, "(file)", rest)


def _definitions_problems(project_dir: Path) -> list[Problem]:
    """What building the project's Dagster definitions (as `mdm run` does) still refuses once
    every contract loads and translates: an entity without its golden contract or a parent
    (`pipelines.assets.project_entities`), a matching.yaml it cannot use, a check it cannot
    build."""
    from .graph import build_definitions  # Dagster's definitions: only for a clean project

    try:
        build_definitions(project_dir)
    except ContractError as exc:
        return list(exc.problems)
    except KeyError as exc:
        return [_problem(str(exc.args[0]), project_dir, "the asset graph cannot be built: ")]
    except ValueError as exc:
        return [_problem(str(exc), project_dir)]
    return []


def _problem(message: str, project_dir: Path, why: str = "") -> Problem:
    """A message that may start with ``<file>: `` (and ``<place>: ``) as a `Problem`."""
    head, _, rest = message.partition(": ")
    if not rest or not Path(head).is_file():
        return Problem(str(project_dir / CONTRACTS_DIR), "(project)", why + message)
    place, _, what = rest.partition(": ")
    if not what or " " in place:  # no place in the file, just what is wrong
        return Problem(head, "(project)", why + rest)
    return Problem(head, place, why + what)


def lint_project(project_dir: Path | str) -> LintReport:
    """Every problem of the project folder `project_dir`'s contracts and ownership.yaml, each
    naming its file and place; none when `mdm run` would load the project."""
    project_dir = Path(project_dir)
    ownership, problems = _ownership(project_dir / OWNERSHIP_FILE)
    contracts, contract_problems = check_project_contracts(project_dir, ownership)
    problems += contract_problems
    for contract in contracts:  # each rule as the definitions translate it into checks
        try:
            contract_rules(contract)
        except ContractError as exc:
            problems += exc.problems
    files = tuple(contract_files(project_dir))
    if not problems:  # the rest of what loading the project for a run refuses
        problems += _definitions_problems(project_dir)
    order = {str(f): i for i, f in enumerate(files)}
    # by file (a contract's load and rule problems together), each file's in the order found
    ranked = sorted(enumerate(problems), key=lambda ip: (order.get(ip[1].file, len(files)), ip[0]))
    return LintReport(files=files, problems=tuple(dict.fromkeys(p for _, p in ranked)))


__all__ = ["LintReport", "lint_project"]
