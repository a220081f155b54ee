"""ΔPAT model: edit packages, their validation messages, edit ids and bounds files."""

from __future__ import annotations

import copy
import hashlib
import math

import pytest

from pattools import schema
from pattools.edit.bounds import Bounds
from pattools.edit.dpat import EditPackage, Target, bounded, edit_id
from pattools.tokens.deltas import Deltas
from pattools.errors import DataError
from tests.test_apply_support import edit_record

GOOD = edit_record([
    {"frame": 2, "dpat": [{"patchId": "0,0,32", "stats": {"rho": 0.1}, "code": {"rvqDelta": [1, 0, 0, 0, 0]}},
                          {"patchId": "32,0,32", "geom": {"phi_gf": -0.5}, "topo": {"vortex": -2}}],
     "dA": {"heads": [{"weight": 0.5, "phase": 1.0}, {}]}},
    {"frame": 3, "dpat": []},
], prompt="increase coherence on rim")


def test_edit_id_is_editor_seed_and_prompt_hash():
    digest = hashlib.sha256("increase coherence on rim".encode()).hexdigest()[:12]
    assert edit_id("heuristic", 1234, "increase coherence on rim") == f"heuristic-1234-{digest}"
    assert edit_id("null", 7, None) == f"null-7-{hashlib.sha256(b'').hexdigest()[:12]}"


def test_package_round_trips_and_validates():
    package = EditPackage.from_record(GOOD)
    assert package.to_record() == GOOD
    schema.validate(GOOD)
    assert [t.frame for t in package.targets] == [2, 3]
    assert package.targets[0].heads == [{"weight": 0.5, "phase": 1.0}, {}]
    batch = package.targets[0].batch
    assert batch.patch_ids == ["0,0,32", "32,0,32"] and batch.path(1, "geom.phi_gf") == "targets[0].dpat[1].geom.phi_gf"
    assert EditPackage.repro_of(GOOD["sim"]) == GOOD["repro"]
    assert Target(4, [], None).to_record() == {"frame": 4, "dpat": []}


def broken(path: list, value) -> dict:
    record = copy.deepcopy(GOOD)
    node = record
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return record


@pytest.mark.parametrize("path, value, where, words", [
    (["targets", 0, "dpat", 0, "stats", "rho"], math.nan, "targets[0].dpat[0].stats.rho", "finite number"),
    (["targets", 0, "dpat", 0, "stats", "rho"], "up", "targets[0].dpat[0].stats.rho", "expected number, got string"),
    (["targets", 0, "dpat", 1, "geom", "theta"], math.inf, "targets[0].dpat[1].geom.theta", "finite"),
    (["targets", 0, "dpat", 1, "geom", "bogus"], 0.1, "targets[0].dpat[1].geom.bogus", "unknown field"),
    (["targets", 0, "dpat", 1, "topo", "vortex"], 0.5, "targets[0].dpat[1].topo.vortex", "integer"),
    (["targets", 0, "dpat", 0, "code", "rvqDelta"], [1, "x"], "targets[0].dpat[0].code.rvqDelta[1]", "integer"),
    (["targets", 0, "dpat", 1, "topo", "vortex"], 2**64, "targets[0].dpat[1].topo.vortex", "64-bit integer"),
    (["targets", 0, "dpat", 1, "topo", "chirality"], -(2**63) - 1, "targets[0].dpat[1].topo.chirality",
     "64-bit integer"),
    (["targets", 0, "dpat", 0, "code", "rvqDelta"], [0, 10**30], "targets[0].dpat[0].code.rvqDelta[1]",
     "64-bit integer"),
    (["targets", 1, "frame"], 2**63, "targets[1].frame", "64-bit integer"),
    (["targets", 0, "dpat", 0, "patchId"], 3, "targets[0].dpat[0].patchId", "string"),
    (["targets", 1, "frame"], -1, "targets[1].frame", "frame >= 0"),
    (["targets", 0, "dA", "heads", 0, "phase"], math.nan, "targets[0].dA.heads[0].phase", "finite"),
    (["repro", "dt"], 0.5, "repro.dt", "as sim.dt"),
    (["repro", "scale"], 64, "repro.scale", "as sim.scale"),
    (["repro", "stepsPerFrame"], KeyError, "repro.stepsPerFrame", "missing"),
    (["kind"], "PAT_FRAME", "kind", '"PAT_EDIT"'),
    (["version"], 2, "version", "1"),
    (["seed"], "7", "seed", "integer"),
    (["targets"], KeyError, "targets", "missing"),
])
def test_bad_values_name_record_and_field(path, value, where, words):
    with pytest.raises(DataError) as info:
        EditPackage.from_record(broken(path, value), input="e.cbor", index=3)
    error = info.value
    assert (error.input, error.record, error.path) == ("e.cbor", 3, where)
    assert words in error.message
    assert str(error).startswith(f"e.cbor: record 3: {where}: ")


def test_integral_floats_count_as_integers():
    record = broken(["targets", 0, "dpat", 1, "topo", "vortex"], -1.0)
    assert EditPackage.from_record(record).targets[0].batch.topo[1, 0] == -1


def test_bounds_violation_names_the_field_and_value():
    batch = Deltas.from_dpats([{"patchId": "a", "code": {"rvqDelta": [0, 2, 0, 0, 0]}}], prefix="targets[1].dpat")
    with pytest.raises(DataError) as info:
        bounded(batch, Bounds.default(), clip=False)
    assert info.value.path == "targets[1].dpat[0].code.rvqDelta[1]"
    assert info.value.message == "expected delta within [-1, 1] (use --clip to clip), got integer 2"
    clipped, clips = bounded(batch, Bounds.default(), clip=True)
    assert clips == 1 and clipped.rvq[0, 1] == 1
