"""Means of PAT_SCORE records per group (the editor, by default): the experiment's table.

The group of a score is the editor prefix of its edit id (``<editor>-<seed>-<hash>``,
docs/editing.md §1). Groups are listed in order of first appearance; means are plain
arithmetic means in input order, so the same inputs give the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from pattools.errors import DataError, expected_found


def group_of(score: dict) -> str:
    ident = score.get("edit") or ""
    return ident.split("-", 1)[0] if ident else "(none)"


def summarize(scores: Iterable[tuple[dict, str, int]]) -> list[dict]:
    """PAT_SCORE scope=mean records, one per group, from (record, input, index) triples."""
    groups: dict[str, list[dict]] = {}
    for record, input, index in scores:
        if record.get("kind") != "PAT_SCORE":
            raise DataError(expected_found('"PAT_SCORE"', record.get("kind")), input=input, record=index, path="kind")
        if record.get("scope") != "edit":
            raise DataError(expected_found('"edit" (a score of one edit)', record.get("scope")), input=input,
                            record=index, path="scope")
        groups.setdefault(group_of(record), []).append(record)
    out = []
    for name, members in groups.items():
        n = len(members)
        rmse = [m["determinismRMSE"] for m in members if m.get("determinismRMSE") is not None]
        atlases = [m["atlas"] for m in members if m.get("atlas") is not None]
        out.append({
            "kind": "PAT_SCORE",
            "version": 1,
            "scope": "mean",
            "group": name,
            "edits": n,
            "faithfulness": _mean(m["faithfulness"] for m in members),
            "drift": _mean(m["drift"] for m in members),
            "editReward": _mean(m["editReward"] for m in members),
            "determinismRMSE": max(rmse) if rmse else None,
            "healthyShare": _mean(1.0 if a["healthy"] else 0.0 for a in atlases) if atlases else None,
        })
    return out


def _mean(values: Iterable[float]) -> float:
    total, n = 0.0, 0
    for v in values:
        total += v
        n += 1
    value = total / n if n else 0.0
    return value + 0.0 if math.isfinite(value) else value
