"""An MDM project folder beside generated data: `write_project(out)` after `generate(..., out)`
makes `out` a project folder (DESIGN.md, "A deployment is a folder") that runs as it is.

The repository's own contracts (`contracts/*.odcs.yaml` over `data/samples/`) are the one
template. They are the files people read, review and copy when onboarding a source, so they stay
hand-written YAML with comments; rendering them from Python instead would make every contract
edit a code change. `write_project` therefore copies them, rewriting only each source server:
its path (`data/samples/crm/contacts.csv` becomes `crm/contacts.csv`) and, when the generated
data is Parquet, its format (dropping the csv delimiter). The edit is made on the text, at the
exact span of each value, so that comments and layout survive, and is then checked by
re-reading the result.

This reads the repository checkout (`contracts/` is not package data), so it works from a
source or editable install, where the generator runs.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from pipelines.contracts import (
    CONTRACTS_DIR,
    DELIMITER,
    OWNERSHIP_FILE,
    contract_files,
    load_project,
)

REPOSITORY = Path(__file__).resolve().parents[2]
SAMPLES = PurePosixPath("data/samples")  # where the repository's contracts point
_PLAIN = re.compile(r"[A-Za-z0-9_./-]+")


@dataclass(frozen=True)
class _Edit:
    start: int  # character offsets into the contract text
    end: int
    text: str


def write_project(out: Path, *, template: Path = REPOSITORY) -> None:
    """Write `out/contracts/*.odcs.yaml` and `out/ownership.yaml` for the data in `out`.

    Source contracts point at their dataset inside `out` (csv or parquet, whichever the
    generator wrote there); the golden contract and ownership.yaml are copied unchanged.
    The folder is loaded once written, so a project that would not load is never left behind
    silently. Raises FileNotFoundError when a source's dataset is not in `out`.
    """
    out = Path(out)
    target = out / CONTRACTS_DIR
    target.mkdir(parents=True, exist_ok=True)
    for source in contract_files(template):
        text = source.read_text(encoding="utf-8")
        header = (
            f"# Rendered by pipelines/generator/project.py from the repository's\n"
            f"# {CONTRACTS_DIR}/{source.name}: only the server differs.\n"
        )
        (target / source.name).write_text(header + _render(text, out), encoding="utf-8")
    shutil.copyfile(template / OWNERSHIP_FILE, out / OWNERSHIP_FILE)
    load_project(out)


def _dataset(declared: str, out: Path) -> tuple[str, str]:
    """(path inside `out`, format) of the dataset a repository contract declares."""
    relative = PurePosixPath(declared).relative_to(SAMPLES).with_suffix("")
    present = [
        (f"{relative}.{fmt}", fmt)
        for fmt in ("csv", "parquet")
        if (out / f"{relative}.{fmt}").is_file()
    ]
    if len(present) != 1:
        found = "both csv and parquet" if present else "neither csv nor parquet"
        raise FileNotFoundError(f"{out / relative}: {found} found; generate the data first")
    return present[0]


def _render(text: str, out: Path) -> str:
    """`text` (a repository contract) with each server pointed at its dataset in `out`."""
    root = yaml.compose(text)
    document = yaml.safe_load(text)
    expected = copy.deepcopy(document)
    edits: list[_Edit] = []
    servers = _get(root, "servers")
    for i, server in enumerate(servers.value if servers is not None else []):
        path, fmt = _dataset(document["servers"][i]["path"], out)
        edits.append(_replace(_get(server, "path"), path))
        expected["servers"][i]["path"] = path
        if fmt != "csv":
            edits.append(_replace(_get(server, "format"), fmt))
            expected["servers"][i]["format"] = fmt
            edits.extend(_drop_delimiter(text, server, expected["servers"][i]))
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        text = text[: edit.start] + edit.text + text[edit.end :]
    if yaml.safe_load(text) != expected:  # a template laid out in a way the edits do not expect
        raise ValueError("rewriting the server changed more than the server; check the template")
    return text


def _get(node: yaml.Node, key: str) -> Any:
    """The value node under `key` of a mapping node, or None."""
    for k, v in node.value:
        if k.value == key:
            return v
    return None


def _replace(node: yaml.ScalarNode, value: str) -> _Edit:
    shown = value if _PLAIN.fullmatch(value) else json.dumps(value)
    return _Edit(node.start_mark.index, node.end_mark.index, shown)


def _last_index(node: yaml.Node) -> int:
    """Where the content of `node` really ends: a block collection's own end mark lies at the
    next token, past any blank lines and comments that follow it."""
    if isinstance(node, yaml.ScalarNode):
        return node.end_mark.index
    children = node.value if isinstance(node, yaml.SequenceNode) else [v for _, v in node.value]
    return max((_last_index(c) for c in children), default=node.end_mark.index)


def _lines(text: str, start: int, end: int) -> _Edit:
    """An edit deleting the whole lines holding text[start:end]."""
    first = text.rfind("\n", 0, start) + 1
    last = text.find("\n", end)
    return _Edit(first, len(text) if last < 0 else last + 1, "")


def _drop_delimiter(text: str, server: yaml.Node, expected: dict[str, Any]) -> list[_Edit]:
    """Parquet has no delimiter: remove the server's mdm.delimiter custom property (and the
    customProperties key with it when nothing else is left)."""
    key_and_items = [(k, v) for k, v in server.value if k.value == "customProperties"]
    if not key_and_items:
        return []
    key, items = key_and_items[0]
    keep = [p for p in expected.get("customProperties", []) if p.get("property") != DELIMITER]
    if not keep:
        expected.pop("customProperties", None)
        return [_lines(text, key.start_mark.index, _last_index(items))]
    expected["customProperties"] = keep
    return [
        _lines(text, item.start_mark.index, _last_index(item))
        for item in items.value
        if (_get(item, "property") is not None and _get(item, "property").value == DELIMITER)
    ]
