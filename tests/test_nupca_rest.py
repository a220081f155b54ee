"""REST: every edit kind proposed, accepted and applied; DAG hygiene; a long run stays sound."""

from __future__ import annotations

import numpy as np
import pytest

from pattools.nupca import rest_proposals
from pattools.nupca.completion import Cue
from pattools.nupca.config import config_from_dict
from pattools.nupca.observation import Observation
from pattools.nupca.state import init_state
from pattools.nupca.step import step
from pattools.nupca.synthetic import LinearBlockEnv

# thresholds relaxed so that all four kinds pass their acceptance tests within 2,000 steps
EDITS = {"fovea_blocks_per_step": 8, "theta_alias": 0.0, "mdl_beta": 0.01,
         "split_independence_threshold": 1.0, "t_inactive": 20}


def check_hygiene(state) -> None:
    library = state.library
    ids = library.ids.tolist()
    assert len(set(ids)) == len(ids) and ids == sorted(ids)
    assert not ids or max(ids) < library.next_node_id
    known = set(ids)
    for parent, child in library.edges.tolist():
        assert parent in known and child in known
    assert set(state.active.tolist()) <= known
    assert set(state.rest.q_block.tolist()) <= set(range(-1, state.partition.count))


def test_each_edit_kind_is_proposed_accepted_and_applied():
    config = config_from_dict({"D": 64, "B": 16, **EDITS})
    state = init_state(config)
    env = LinearBlockEnv(config, seed=7, noise=0.05)
    proposed, accepted = set(), set()
    for obs in env.stream(2_000, rest_every=100):
        before = set(state.library.ids.tolist())
        edges_before = {tuple(e) for e in state.library.edges.tolist()}
        trace = step(state, obs)
        proposed |= {rest_proposals.KIND_NAMES[k] for k in state.rest.q_kind.tolist()}
        after = set(state.library.ids.tolist())
        created_all, removed_all = set(), set()
        for edit in trace.edits:
            assert edit["accepted"] == bool(edit["created"] or edit["removed"])
            if not edit["accepted"]:
                continue
            accepted.add(edit["kind"])
            created_all |= set(edit["created"])
            removed_all |= set(edit["removed"])
            if edit["kind"] == "MERGE":
                (merged,) = edit["created"]
                a, b = edit["removed"]
                assert {a, b} <= before
            if edit["kind"] == "SPLIT":
                assert len(edit["created"]) == 2 and len(edit["removed"]) == 1
        # applied: the library changed exactly as the edits say
        assert after == (before | created_all) - (removed_all - created_all)
        assert not removed_all & after
        # new nodes get no edges except those the edits give them
        new_edges = {tuple(e) for e in state.library.edges.tolist()} - edges_before
        for parent, child in new_edges:
            assert parent in created_all or child in created_all
        check_hygiene(state)
    assert proposed == {"PRUNE", "MERGE", "SPAWN", "SPLIT"}
    assert accepted == {"PRUNE", "MERGE", "SPAWN", "SPLIT"}


def test_spawn_parent_and_merge_split_inheritance():
    config = config_from_dict({"D": 64, "B": 16, **EDITS})
    state = init_state(config)
    env = LinearBlockEnv(config, seed=7, noise=0.05)
    seen_kinds = set()
    for obs in env.stream(2_000, rest_every=100):
        library = state.library
        parents_before = {i: set(library.parents_of(i).tolist()) for i in library.ids.tolist()}
        children_before = {i: set(library.children_of(i).tolist()) for i in library.ids.tolist()}
        trace = step(state, obs)
        library = state.library
        alive = set(library.ids.tolist())
        created_now = {n for e in trace.edits for n in e["created"]}
        for edit in trace.edits:
            if not edit["accepted"] or edit["kind"] == "PRUNE":
                continue
            for new in edit["created"]:
                if new not in alive:
                    continue  # removed again by a later edit of the same REST step
                parents = set(library.parents_of(new).tolist())
                children = set(library.children_of(new).tolist())
                if edit["kind"] == "SPAWN":
                    refined = [n for n in edit["nodes"] if n not in edit["removed"]]
                    assert parents <= set(refined) | created_now
                if edit["kind"] in ("MERGE", "SPLIT"):
                    sources = edit["removed"]
                    inherited_p = set().union(*(parents_before.get(s, set()) for s in sources)) - set(sources)
                    inherited_c = set().union(*(children_before.get(s, set()) for s in sources)) - set(sources)
                    assert parents <= inherited_p | created_now  # a later split re-parents it
                    assert children <= inherited_c | created_now  # later spawns may refine it
                seen_kinds.add(edit["kind"])
    assert {"SPAWN", "MERGE", "SPLIT"} <= seen_kinds


def test_stale_and_duplicate_proposals_never_crash():
    config = config_from_dict({"D": 16, "B": 4})
    state = init_state(config)
    memory = state.rest
    # hand-made queue: missing nodes, anchors, a bad block, duplicates
    memory.q_kind = np.array([0, 0, 1, 1, 2, 2, 3, 3], dtype=np.int64)
    memory.q_a = np.array([999, 0, 1, 0, -1, -1, 999, 0], dtype=np.int64)
    memory.q_b = np.array([-1, -1, 999, 2, -1, -1, -1, -1], dtype=np.int64)
    memory.q_block = np.array([0, -1, 0, 0, 3, -1, 0, -1], dtype=np.int64)
    memory.q_priority = np.ones(8)
    dims = np.arange(16, dtype=np.int64)
    trace = step(state, Observation(cue=Cue(dims, np.zeros(16)), rest=True))
    assert len(trace.edits) == 8
    assert not any(e["accepted"] for e in trace.edits)
    assert state.rest.q_kind.shape[0] == 0
    check_hygiene(state)


def test_proposals_are_deduplicated_and_bounded():
    config = config_from_dict({"D": 64, "B": 16, **EDITS, "max_queue": 20})
    state = init_state(config)
    env = LinearBlockEnv(config, seed=3, noise=0.05)
    for obs in env.stream(600):
        step(state, obs)
        memory = state.rest
        keys = list(zip(memory.q_kind.tolist(), memory.q_a.tolist(), memory.q_b.tolist(), memory.q_block.tolist()))
        assert len(keys) == len(set(keys)) <= 20


@pytest.mark.slow
def test_long_run_with_rest_never_crashes_and_keeps_ids_unique():
    config = config_from_dict({"D": 256, "B": 64, "fovea_blocks_per_step": 16})
    state = init_state(config)
    env = LinearBlockEnv(config, seed=11, noise=0.02)
    highest = state.library.next_node_id
    applied = 0
    for obs in env.stream(5_000, rest_every=500):
        trace = step(state, obs)
        if trace.rest:
            applied += sum(e["accepted"] for e in trace.edits)
            check_hygiene(state)
        assert state.library.next_node_id >= highest
        highest = state.library.next_node_id
    check_hygiene(state)
    assert applied > 0
    assert state.t == 5_000
