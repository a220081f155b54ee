"""TokenAtlas figures (pat-tokens.md §4)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pattools.errors import DataError
from pattools.tokens.atlas import Atlas, atlas_figures


def _naive(rvq, bins=4):
    rvq = [list(r) for r in rvq]
    count = len(rvq)
    dims = len(rvq[0])
    usage, perp = [], []
    for d in range(dims):
        hist = [sum(1 for r in rvq if r[d] == b) for b in range(bins)]
        usage.append(sum(1 for h in hist if h > 0) / bins)
        h = -sum((c / count) * math.log2(c / count) for c in hist if c > 0)
        perp.append(2.0**h)
    joint = {}
    for r in rvq:
        joint[tuple(r)] = joint.get(tuple(r), 0) + 1
    hj = -sum((c / count) * math.log2(c / count) for _, c in sorted(joint.items()))
    return usage, perp, 2.0**hj


def test_single_frame_figures():
    rvq = np.array([[3, 1, 0, 0, 3], [3, 1, 0, 1, 3], [3, 2, 0, 2, 3], [3, 3, 1, 3, 0]])
    f = atlas_figures(rvq)
    usage, perp, joint = _naive(rvq)
    assert f["count"] == 4 and f["dims"] == 5 and f["bins"] == 4
    assert f["features"] == ["A", "phi_gf", "theta_ref", "entropyRate", "kappa_abs"]
    assert f["usage"] == usage == [0.25, 0.75, 0.5, 1.0, 0.5]
    assert f["perplexity"] == pytest.approx(perp, rel=1e-15)
    assert f["perplexity"][0] == 1.0 and f["perplexity"][3] == pytest.approx(4.0)
    assert f["jointPerplexity"] == pytest.approx(joint) and joint == pytest.approx(4.0)


def test_pooling_over_frames_equals_one_histogram():
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 4, size=(rng.integers(1, 40), 5)) for _ in range(6)]
    atlas = Atlas()
    for f in frames:
        atlas.add(f)
    pooled = atlas.figures()
    whole = atlas_figures(np.concatenate(frames))
    assert pooled == whole
    usage, perp, joint = _naive(np.concatenate(frames))
    assert pooled["usage"] == usage
    assert pooled["perplexity"] == pytest.approx(perp, rel=1e-14)
    assert pooled["jointPerplexity"] == pytest.approx(joint, rel=1e-14)


def test_empty_and_out_of_range():
    f = Atlas().figures()
    assert f == {"count": 0, "dims": 0, "bins": 4, "usage": [], "perplexity": [], "jointPerplexity": 1.0}
    with pytest.raises(DataError, match=r"tokens\[1\]\.code\.rvq\[2\]: expected code in \[0, 4\), got integer 4"):
        atlas_figures(np.array([[0, 0, 0, 0, 0], [0, 0, 4, 0, 0]]))
    with pytest.raises(DataError):
        atlas_figures(np.array([[0, -1, 0, 0, 0]]))
    a = Atlas()
    a.add(np.zeros((2, 5), np.int64))
    with pytest.raises(DataError, match="5 dims"):
        a.add(np.zeros((2, 4), np.int64))


def test_other_bins_and_large_dims():
    rvq = np.array([[0, 1, 7] * 4, [1, 1, 7] * 4])
    f = atlas_figures(rvq, bins=8)  # 8^12 joint codes: sparse joint histogram
    assert f["dims"] == 12 and f["jointPerplexity"] == pytest.approx(2.0)
    assert "features" not in f
