"""Clustering: connected components of the records joined by pairs at or above a threshold,
guarded against chains that join records the model itself found to be different people.

Connected components are transitive: A~B and B~C put A and C together even when A and C were
compared and found apart (a father and a son, each similar to a record without a birth date).
`guarded_components` first builds the components (scipy, compiled); only a component that holds
such a *conflict* pair (compared, probability below a floor) is rebuilt, its edges added
strongest first and an edge skipped when it would put a conflict pair into one cluster. The
rebuild loops over the edges of conflicted components only, a small share of all edges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Cluster label per record (0..k-1) of the graph with n nodes and the given edges.

    >>> components(4, np.array([0, 2]), np.array([1, 3])).tolist()
    [0, 0, 1, 1]
    """
    graph = coo_matrix((np.ones(len(left), np.int8), (left, right)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels.astype(np.int64)


@dataclass(frozen=True)
class Guarded:
    labels: np.ndarray  # cluster label per record, 0..k-1
    conflicted: int  # components that held a conflict pair and were rebuilt
    skipped_edges: int  # edges not added because they would join a conflict pair


def guarded_components(
    n: int,
    left: np.ndarray,
    right: np.ndarray,
    strength: np.ndarray,
    conflict_left: np.ndarray,
    conflict_right: np.ndarray,
) -> Guarded:
    """Components of the edges (`left`, `right`, `strength`), never joining a conflict pair.

    >>> g = guarded_components(3, np.array([0, 1]), np.array([1, 2]), np.array([0.99, 0.95]),
    ...                        np.array([0]), np.array([2]))
    >>> g.labels.tolist(), g.conflicted, g.skipped_edges
    ([0, 0, 1], 1, 1)
    """
    labels = components(n, left, right)
    inside = labels[conflict_left] == labels[conflict_right]
    bad = np.unique(labels[conflict_left[inside]])
    if len(bad) == 0:
        return Guarded(labels, 0, 0)
    rebuild = np.isin(labels[left], bad)
    order = np.argsort(-strength[rebuild], kind="stable")
    edges = np.column_stack([left[rebuild], right[rebuild]])[order]
    conflicts: dict[int, set[int]] = {}
    for a, b in zip(conflict_left[inside].tolist(), conflict_right[inside].tolist(), strict=True):
        conflicts.setdefault(a, set()).add(b)
        conflicts.setdefault(b, set()).add(a)
    parent = {int(v): int(v) for v in np.flatnonzero(np.isin(labels, bad))}
    members = {v: {v} for v in parent}

    def root(v: int) -> int:
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    skipped = 0
    for a, b in edges.tolist():
        ra, rb = root(a), root(b)
        if ra == rb:
            continue
        small, large = (ra, rb) if len(members[ra]) < len(members[rb]) else (rb, ra)
        if any(conflicts.get(v, set()) & members[large] for v in members[small]):
            skipped += 1
            continue
        parent[small] = large
        members[large] |= members.pop(small)
    # relabel: untouched components keep theirs, each rebuilt cluster gets a new label
    out = labels.copy()
    next_label = labels.max() + 1
    for r in {root(v) for v in parent}:
        out[list(members[r])] = next_label
        next_label += 1
    _, out = np.unique(out, return_inverse=True)
    return Guarded(out.astype(np.int64), int(len(bad)), skipped)
