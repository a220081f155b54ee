"""The files beside the streams (bounds, regions, prompts), read by the commands and handed
to the domain parsed."""

from __future__ import annotations

import json
import math

import pytest

from pattools.cli.documents import prompt_lines, read_bounds, read_prompts, read_regions
from pattools.edit.bounds import Bounds
from pattools.edit.prompt_lines import PromptLine
from pattools.errors import DataError
from tests.helpers import ROOT


def test_default_bounds_file_documents_the_defaults():
    path = ROOT / "pattools" / "data" / "bounds.json"
    assert read_bounds(path) == Bounds.default()
    data = json.loads(path.read_text())
    assert data["geom"]["phi_gf"] == math.pi / 4 and data["stats"]["rho"] == 0.25 and data["code"]["rvqDelta"] == 1
    assert data["topo"] == {"vortex": 2, "chirality": 2} and data["geom"]["gradPhi"] == 0.5


def test_bounds_file_overrides_a_subset(tmp_path):
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"stats": {"rho": 0.5}, "code": {"rvqDelta": 2}}))
    bounds = read_bounds(path)
    assert bounds.stats[0] == 0.5 and bounds.stats[1] == 0.25 and bounds.rvq == 2
    for bad, where in (({"stats": {"rho": -1}}, "stats.rho"), ({"stats": {"nope": 1}}, "stats.nope"),
                       ({"extra": {}}, "extra"), ({"geom": {"A": "x"}}, "geom.A")):
        path.write_text(json.dumps(bad))
        with pytest.raises(DataError) as info:
            read_bounds(path)
        assert info.value.path == where and info.value.input == str(path)
    with pytest.raises(DataError, match="no such file or directory"):
        read_bounds(tmp_path / "missing.json")
    with pytest.raises(DataError, match="is a directory"):
        read_bounds(tmp_path)


def test_regions_file(tmp_path):
    path = tmp_path / "regions.json"
    path.write_text(json.dumps({"Plane #1": ["0,0,32", {"x": 32, "y": 0, "w": 32, "h": 32}]}))
    assert read_regions(str(path)).names() == ["Plane #1"]
    with pytest.raises(DataError, match="no such file or directory") as info:
        read_regions(str(tmp_path / "missing.json"))
    assert info.value.input == str(tmp_path / "missing.json")


def test_prompts_file_text_and_json_lines(tmp_path):
    data = b'# comment\n\nraise energy\n{"prompt": "lower rho", "id": "b", "seed": 2, "frame": 3}\n'
    assert prompt_lines(data, "p") == [PromptLine("raise energy", line=2), PromptLine("lower rho", "b", 2, 3, 3)]
    for bad, where in ((b'{"prompt": 1}', "prompt"), (b'{"prompt": "x", "seed": -1}', "seed"),
                       (b'{"prompt": "x", "more": 1}', "more"), (b'{"prompt": ', None)):
        with pytest.raises(DataError) as info:
            prompt_lines(b"x\n" + bad, "p")
        assert info.value.input == "p" and info.value.record == 1
        if where:
            assert info.value.path == where
    with pytest.raises(DataError, match="expected UTF-8 text"):
        prompt_lines(b"\xff", "p")
    path = tmp_path / "prompts.txt"
    path.write_text("# nothing\n")
    with pytest.raises(DataError, match="no prompts in the file"):
        read_prompts(str(path))
