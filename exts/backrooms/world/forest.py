"""Vectorised graph algorithms on cell grids: spanning forests and connected components.

Both run over every chunk of a block at once (edges never cross chunks where it matters), so a
block of a million cells costs a few numpy passes, not a Python loop per cell.
"""

from __future__ import annotations

import numpy as np


def _compress(parent: np.ndarray) -> np.ndarray:
    """Pointer jumping until every node points at its root."""
    while True:
        grand = parent[parent]
        if np.array_equal(grand, parent):
            return parent
        parent = grand


def components(n_nodes: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Component label (the smallest node id in it) for each node of an undirected graph."""
    parent = np.arange(n_nodes, dtype=np.int64)
    while True:
        pu, pv = parent[u], parent[v]
        differ = pu != pv
        if not differ.any():
            return parent
        lo, hi = np.minimum(pu[differ], pv[differ]), np.maximum(pu[differ], pv[differ])
        np.minimum.at(parent, hi, lo)
        parent = _compress(parent)


def minimum_spanning_forest(n_nodes: int, u: np.ndarray, v: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Borůvka's algorithm: a boolean mask over the edges that form the minimum spanning forest.

    With distinct weights the forest is unique, so each chunk's tree depends only on its own edges.
    """
    order = np.argsort(weight, kind="stable")  # rank -> edge index
    rank = np.empty(len(u), dtype=np.int64)
    rank[order] = np.arange(len(u))
    chosen = np.zeros(len(u), dtype=bool)
    comp = np.arange(n_nodes, dtype=np.int64)
    none = np.iinfo(np.int64).max
    while True:
        cu, cv = comp[u], comp[v]
        live = np.nonzero(cu != cv)[0]
        if live.size == 0:
            return chosen
        best = np.full(n_nodes, none, dtype=np.int64)
        np.minimum.at(best, cu[live], rank[live])
        np.minimum.at(best, cv[live], rank[live])
        roots = np.nonzero(best != none)[0]
        edges = order[best[roots]]
        chosen[edges] = True
        target = np.where(comp[u[edges]] == roots, comp[v[edges]], comp[u[edges]])
        parent = np.arange(n_nodes, dtype=np.int64)
        parent[roots] = target
        mutual = (parent[parent] == np.arange(n_nodes)) & (np.arange(n_nodes) < parent)
        parent[mutual] = np.nonzero(mutual)[0]
        comp = _compress(parent)[comp]
