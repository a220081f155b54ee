"""Lattice parameters: the exporter preset, command-line overrides, the recorded diff."""

from __future__ import annotations

import dataclasses

import pytest

from pattools.errors import UsageError
from pattools.lattice.params import INERT, PRESET_NAME, LatticeParams


def test_preset_is_the_exporters_configuration():
    p = LatticeParams.preset()
    assert PRESET_NAME == "andres-net-export"
    expected = {
        "omegaSpread": 0.25, "swProb": 0.04, "swEdgesPerNode": 2, "swMinDist": 6.0,
        "swMaxDist": 20.0, "swNegFrac": 0.2, "energyBaseline": 0.35, "Kbase": 0.8, "K1": 1.0,
        "K2": -0.3, "K3": 0.15, "KS1": 0.9, "KS2": 0.0, "KS3": 0.0, "KH1": 0.7, "KH2": 0.0,
        "KH3": 0.0, "alphaSurfToField": 0.6, "alphaFieldToSurf": 0.5, "alphaHypToField": 0.8,
        "alphaFieldToHyp": 0.4, "swWeight": 0.25, "wallBarrier": 0.5, "emGain": 0.6,
        "energyLeak": 0.02, "energyDiff": 0.12, "sinkLine": 0.03, "sinkSurf": 0.02,
        "sinkHyp": 0.02, "trapSurf": 0.2, "trapHyp": 0.35, "minEnergySurf": 0.25,
        "minEnergyHyp": 0.4, "surfPull": 0.4, "hypPull": 0.3, "energyMax": 4.0,
    }
    assert dataclasses.asdict(p) == expected
    assert isinstance(p.swEdgesPerNode, int)
    assert p.overrides() == {}
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.K1 = 2.0  # type: ignore[misc]


def test_overrides_coerce_strings_and_record_sorted_diff():
    p = LatticeParams.preset().with_overrides({"K2": "-0.5", "swEdgesPerNode": "3", "Kbase": 1})
    assert p.K2 == -0.5 and p.swEdgesPerNode == 3 and p.Kbase == 1.0
    assert isinstance(p.Kbase, float)
    assert list(p.overrides()) == ["K2", "Kbase", "swEdgesPerNode"]
    assert p.overrides() == {"K2": -0.5, "Kbase": 1.0, "swEdgesPerNode": 3}
    # a replay rebuilds the same parameters from the recorded diff
    assert LatticeParams.preset().with_overrides(p.overrides()) == p
    # setting a field back to its default drops it from the diff
    assert p.with_overrides({"K2": -0.3}).overrides() == {"Kbase": 1.0, "swEdgesPerNode": 3}


@pytest.mark.parametrize(
    "mapping, fragment",
    [
        ({"K9": "1"}, "unknown lattice parameter 'K9'"),
        ({"K1": "strong"}, "K1: expected finite number, got string 'strong'"),
        ({"K1": "nan"}, "K1: expected finite number"),
        ({"K1": "inf"}, "K1: expected finite number"),
        ({"K1": True}, "K1: expected finite number, got boolean"),
        ({"swEdgesPerNode": "2.5"}, "swEdgesPerNode: expected integer"),
        ({"swEdgesPerNode": "-1"}, "swEdgesPerNode: expected 0..1024, got -1"),
        ({"wallBarrier": "0"}, "'wallBarrier' has no effect"),
    ],
)
def test_bad_overrides_are_usage_errors_naming_the_key(mapping, fragment):
    with pytest.raises(UsageError) as err:
        LatticeParams.preset().with_overrides(mapping)
    assert fragment in str(err.value)


def test_inert_fields_exist():
    names = {f.name for f in dataclasses.fields(LatticeParams)}
    assert INERT <= names
