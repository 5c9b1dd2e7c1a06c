"""Who is accountable for what: the typed form of a project's `ownership.yaml`.

`ownership.yaml` is the only place people are named (DESIGN.md, "Boundaries"). Contracts name a
team; this module says who that team is. Every error names the file and the place in it, e.g.
``ownership.yaml: teams.crm.owners[1]: 'bob' is neither an email nor team:<name>``, because the
person fixing it is editing YAML, not reading a traceback.

Example::

    ownership = load_ownership(Path("ownership.yaml"))
    ownership.team("crm").owners  # ('crm-data@example.com', 'team:crm')
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
)
from pydantic_core import PydanticCustomError

# Dagster's own owner check (dagster._core.utils.is_valid_email / is_valid_owner), restated so
# that a bad owner fails when ownership.yaml loads rather than when the asset graph is built.
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_TEAM_OWNER = re.compile(r"team:\S+")
_TEAM_NAME = r"^[a-z][a-z0-9_-]*$"


class OwnershipError(ValueError):
    """ownership.yaml is malformed, or a team it does not define was asked for.

    `problems` holds one ``"<file>: <place>: <what is wrong>"`` line per problem.
    """

    def __init__(self, problems: Sequence[str]):
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


def _email(value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise PydanticCustomError(
            "email", "{value} is not an email address", {"value": repr(value)}
        )
    return value


def _owner(value: str) -> str:
    if not (_EMAIL.fullmatch(value) or _TEAM_OWNER.fullmatch(value)):
        raise PydanticCustomError(
            "owner", "{value} is neither an email nor team:<name>", {"value": repr(value)}
        )
    return value


Email = Annotated[str, AfterValidator(_email)]
Owner = Annotated[str, AfterValidator(_owner)]


class Team(BaseModel):
    """One accountable team. Owners become Dagster asset owners; stewards review match
    decisions; escalation is who is told when a blocking check stops a publish."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = Field(min_length=1)
    owners: tuple[Owner, ...] = Field(min_length=1)
    stewards: tuple[Email, ...] = Field(min_length=1)
    escalation: tuple[Email, ...] = Field(min_length=1)


class Ownership(BaseModel):
    """Every team of a project, by name (the name contracts put in `team.name`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    teams: dict[Annotated[str, Field(pattern=_TEAM_NAME)], Team] = Field(min_length=1)
    _source: str = PrivateAttr(default="ownership.yaml")

    @property
    def source(self) -> str:
        """The file this was loaded from, as errors name it."""
        return self._source

    def team(self, name: str) -> Team:
        """The team called `name`; an `OwnershipError` naming the known teams if there is none.

        There is deliberately no default team: an asset nobody owns is a load-time error.
        """
        try:
            return self.teams[name]
        except KeyError:
            known = ", ".join(sorted(self.teams))
            raise OwnershipError(
                [f"{self.source}: teams: no team {name!r}; the known teams are {known}"]
            ) from None


def _place(loc: Sequence[int | str]) -> str:
    """A pydantic error location as a YAML path: ('teams', 'crm', 'owners', 1) ->
    'teams.crm.owners[1]'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part != "[key]":  # pydantic marks a bad dict key by appending "[key]"
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _message(error: Any) -> str:
    message = str(error["msg"])
    if error["type"] == "missing":
        return "is required"
    if error["type"] == "extra_forbidden":
        return "is not a known field"
    if error["type"] == "too_short":
        return "needs at least one entry"
    if error["loc"] and error["loc"][-1] == "[key]":
        return f"{error['input']!r} is not a team name (lower case letters, digits, _ and -)"
    return message.removeprefix("Value error, ")


def load_ownership(path: Path | str) -> Ownership:
    """Parse and validate `path` (a project's ownership.yaml).

    Raises `OwnershipError` with one line per problem, each naming the file and the place.
    """
    path = Path(path)
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise OwnershipError([f"{shown}: cannot be read: {exc.strerror or exc}"]) from exc
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(parse)"
        problem = getattr(exc, "problem", None) or str(exc)
        raise OwnershipError([f"{shown}: {where}: not valid YAML: {problem}"]) from exc
    if not isinstance(document, dict):
        raise OwnershipError([f"{shown}: (top level): must be a mapping with a `teams` key"])
    try:
        ownership = Ownership.model_validate(document)
    except ValidationError as exc:
        raise OwnershipError(
            [
                f"{shown}: {_place(e['loc'])}: {_message(e)}"
                for e in exc.errors()
                # a list whose every entry failed is also "too short": its entries say why
                if not (e["type"] == "too_short" and e["input"])
            ]
        ) from None
    ownership._source = shown
    return ownership
