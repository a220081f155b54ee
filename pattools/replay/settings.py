"""Replay settings: modulator gains and delta-decoder constants (docs/replay.md).

Both are recorded in the ``replay`` block of every replayed frame, so a replayed stream
says how it was made. Defaults: the gains of the original UI (docs/tokens.md §3,
docs/lattice.md §6); the decoder constants as calibrated for the baseline editor's
default nudges (see ``DecoderConstants``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

DECODERS: tuple[str, ...] = ("delta", "tokens", "live")
DEFAULT_DECODER = "delta"


@dataclass(frozen=True)
class Gains:
    """How the modulator fields act on the step (docs/lattice.md §6)."""

    gammaK: float = 0.6
    betaK: float = 0.2
    gammaAlpha: float = 0.15
    betaAlpha: float = 0.1
    gammaD: float = 0.4
    deltaD: float = 0.15
    etaV: float = 0.0  # the wind's gain; 0 (the original's value everywhere): no wind

    def to_record(self) -> dict[str, float]:
        """Every gain; etaV only when the wind is on, so that a replay without it records
        what it recorded before the wind existed."""
        return {k: float(v) for k, v in asdict(self).items() if k != "etaV" or v != 0.0}


@dataclass(frozen=True)
class DecoderConstants:
    """The ``k_*`` of the delta decoder: one channel for every feature a prompt can name.

    Coupling drive (A/U fields, factor ``1 + γK·Aact_i·Aact_j − βK·Uact_i·Uact_j``):
    ``a_p = kRho·Δrho − kEnt·ΔentropyRate − kGrad·ΔgradPhi/π + kA·ΔA + kAttn·ΔattnMean
    − kKappa·min(Δkappa, 0) + kAffect·(Δvalence − Δarousal) + kChirK·|Δchirality|``.
    Wind field (only with etaV ≠ 0): ``A = splat(kWindE·max(Δenergy, 0))``.
    Phase-lag drive (lapA, lag ``α = γα·lapA``, a local frequency shift of about
    ``−Kbase·ΣK·sin α``): ``q_p = kPhase·Δphi_gf + kEnergy·Δenergy`` splatted, plus a
    checkerboard of ``kRough·max(Δkappa, 0)`` (neighbours run apart: curvature up) and an
    azimuthal profile ``kChir·Δchirality·azimuth`` around the patch centre (winds the phase).

    Why these channels (measured with bench/calibrate_delta.py on the training set
    tests/data/edit_study/train.json: 96×96, scale 16, seeds 1–3, 8 frames × 8 steps, edits
    on frames 1–7; heuristic mean faithfulness per kind):
    - ``kPhase`` is negative: a positive lag makes a synchronised patch's phase drift down
      (+2: "raise phase" −0.52…−0.63; −2: +0.54…+0.61). −6 rather than −2: the heuristic
      effect over the seed-to-seed spread of a region's phase goes 0.27 → 0.82 and the
      mean EditReward 0.536 → 0.890 (−10: 1.15, but more drift, reward 0.885); the strongest
      in-bounds nudge (π/4) then turns a region's phase by more than a full turn.
    - ``kGrad = kEnt``: entropyRate is gradPhi/π, so both names get the same drive. 20
      rather than 10: gradient effect/spread 1.06 → 2.27, entropy 2.74 → 3.75, EditReward
      0.145 → 0.274 and 0.185 → 0.224; the step-scale ordering stays 180/180.
    - energy (lag): without the wind the step has no energy input, but energy grows with
      ``sin(φS − θ) + ½ sin(φH − θ)``: slowing the field against its surface layers (a
      positive lag) raises it. kEnergy 6 → 0.249, 10 → 0.378, 16 → 0.525
      (−6: −0.27, the sign checks out).
    - energy, with the wind (``--eta-v``, gain etaV; off by default): a field
      ``A = splat(kWindE·max(Δenergy, 0))`` moves energy into the patch, since
      ``advE = −etaV·∇·(E∇A)`` concentrates it where A has a peak (its θ term
      ``etaV·∇A·∇θ`` transports the phase pattern away from the peak and barely touches energy:
      without it the same figures). It cannot take energy out: a trough sends energy into a
      ring that grows faster than the centre drains, and the clamp at 0 adds more, so
      decreases stay with the lag. Train, etaV 1: kWindE 50: 0.688, reward 0.526; 100: 0.763,
      0.584; 200: 0.790, 0.579 (kWindE 0: 0.525, 0.369); held out 0.573 → 0.814. Wind designs aimed at chirality
      (bumps of ±Δchirality, outflow from every chiral patch, a uniform drift, sign flipped
      every frame) only scramble: a gradient flow moves defects of both signs alike, so the
      whole-grid reversed share rises to the kept share (≈ 0.4 each) and no further; see
      docs/replay.md.
    - curvature: coupling up smooths (kKappa), a checkerboard lag roughens (kRough): 0.884.
    - chirality: the azimuthal lag, one cut, weight 1 to half a patch from the centre and 0
      from ¾ (the opposite defect lands at the patch edge or outside): 0.185 [0.155, 0.215],
      EditReward +0.057, drift 0.128 (kChir 2). Measured alternatives: weight 1 to one
      patch, 0 from 1.5 (kChir 1: 0.172, reward −0.143, drift 0.315; 1.5: 0.207; 2: 0.184;
      without the coupling term kChirK: 0.144); ½–1 patch (kChir 1: 0.159, 1.5: 0.221,
      3: 0.231 but interval [−0.006, 0.467]); ¾–1 (0.168); four or eight cuts per centre,
      which wind faster, did no better on the whole-lattice reversal share (0.07–0.23
      reversed against 0.54–0.76 kept). A flip of the whole grid does not steer (score 0
      under every design): it has no outside to put the opposite defects in.
    - arousal/valence (frame-wide): coupling down raises arousal and lowers valence
      (kAffect 10: 0.538 / 0.300; 20: 0.639 / 0.372).
    - kRho = kA = kAttn = 10 as docs/replay.md starts (kRho 20 moves rho only 0.050 → 0.053:
      the coupling factor saturates at tanh 1).
    Held-out figures (heldout.json): bench/edit_authority.py and the README.
    """

    kRho: float = 10.0
    kEnt: float = 20.0
    kGrad: float = 20.0
    kA: float = 10.0
    kAttn: float = 10.0
    kPhase: float = -6.0
    kEnergy: float = 16.0
    kKappa: float = 10.0
    kRough: float = 4.0
    kChir: float = 2.0
    kChirK: float = 1.0
    kAffect: float = 10.0
    kWindE: float = 100.0

    def to_record(self, wind: bool = False) -> dict[str, float]:
        """Every constant; the wind's (WIND_CONSTANTS) only when the wind is on."""
        return {k: float(v) for k, v in asdict(self).items() if wind or k not in WIND_CONSTANTS}


WIND_CONSTANTS: tuple[str, ...] = ("kWindE",)


GAIN_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Gains))
CONSTANT_NAMES: tuple[str, ...] = tuple(f.name for f in fields(DecoderConstants))
