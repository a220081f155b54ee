"""The replay driver: re-run each sequence's lattice, steered frame by frame by decoded fields.

docs/replay.md. A sequence (the frames of one seed, 0, 1, 2, … without gaps) is
replayed from a fresh lattice built from its ``sim`` block. Input frame f steers the
``stepsPerFrame`` steps that produce output frame f; the output holds tokens built from
the live lattice after those steps, with attnMean/attnVar from the Aact field that drove
the last of them (none when no modulator was active, so a zero-edit delta replay is the
export). ``frames`` selects which output frames are built; the lattice always runs from
frame 0 and stops after the last selected frame.

Edits reach a frame through its ``edit`` block (written by pat-apply), or, when edit
packages are applied in the same process (pattools.edited_replay), as the edited tokens
and effective deltas that application gives (``FrameEdit``): both steer identically. The
decoder sees the edited tokens and every effective delta applied to the frame. This
module holds no edit machinery and reads no bytes: it takes frames and returns frames.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from pattools.errors import DataError, UsageError, expected_found
from pattools.tokens.metrics import LatticeMetrics
from pattools.lattice.modulators import Modulators, Wind
from pattools.lattice.params import LatticeParams
from pattools.replay.settings import DECODERS, DEFAULT_DECODER, DecoderConstants, Gains
from pattools.replay.steering import FrameEdit, read_frame_edit, weight_column
from pattools.tokens.frame import TokenFrame

if TYPE_CHECKING:  # decoding is imported where a frame is steered: a replay without edits starts without it
    from pattools.replay.decoders import ModFields
    from pattools.tokens.deltas import Deltas

# Affect placeholder for the live decoder's per-step tokens: the original decoder reads
# only entropyRate and attnMean, so computeMetrics (which feeds only arousal/valence)
# is skipped there. Output frames always compute it.
_NO_METRICS = LatticeMetrics(0.0, 0.0, 0.0, 0, 0, 0.0, 0.0)

FIELD_FILES: tuple[tuple[str, str], ...] = (("aact", "aact"), ("uact", "uact"), ("lapA", "lap_a"), ("divU", "div_u"))
ApplyDeltas = Callable[[TokenFrame, "Deltas"], TokenFrame]


@dataclass(frozen=True)
class ReplayOptions:
    """How to replay (everything but the input and the edits)."""

    decoder: str = DEFAULT_DECODER
    gains: Gains = Gains()
    constants: DecoderConstants = DecoderConstants()
    frames: tuple[int | None, int | None] | None = None  # half-open output selection
    metrics: bool = False  # add metrics to every frame (else: as the input frame has them)
    kernel: str = "fast"
    validate: bool = False  # schema-check input frames here (see Replayer)

    def __post_init__(self) -> None:
        if self.decoder not in DECODERS:
            raise UsageError(f"unknown decoder {self.decoder!r} (expected one of {', '.join(DECODERS)})")

    def selected(self, frame: int) -> bool:
        if self.frames is None:
            return True
        start, stop = self.frames
        return (start is None or frame >= start) and (stop is None or frame < stop)

    def past_selection(self, frame: int) -> bool:
        return self.frames is not None and self.frames[1] is not None and frame >= self.frames[1]


@dataclass
class ReplayedFrame:
    """One output frame: the record without its tokens (``envelope``) and the token
    columns, with what produced it (for --fields and --verify)."""

    envelope: dict
    tokens: TokenFrame
    fields: ModFields | None  # the fields that drove the frame's last step (None: no modulator)
    seed: int
    frame: int
    W: int
    H: int

    def field_arrays(self) -> dict[str, np.ndarray]:
        """The fields that drove the frame's last step as float32 (H, W) arrays by file
        name (aact, uact, lapA, divU; all zeros when no modulator was active)."""
        out = {}
        for name, attr in FIELD_FILES:
            if self.fields is None:
                out[name] = np.zeros((self.H, self.W), dtype=np.float32)
            else:
                out[name] = np.asarray(getattr(self.fields, attr), dtype=np.float32).reshape(self.H, self.W)
        return out


def _replay_block(options: ReplayOptions, edit_id: str | None) -> dict:
    return {
        "decoder": options.decoder,
        "gains": options.gains.to_record(),
        "constants": options.constants.to_record(wind=options.gains.etaV != 0.0),
        "editId": edit_id,
    }


def _modulators(fields: ModFields, gains: Gains) -> Modulators:
    return Modulators(
        fields.aact, fields.uact, fields.lap_a, fields.div_u,
        gamma_k=gains.gammaK, beta_k=gains.betaK, gamma_alpha=gains.gammaAlpha,
        beta_alpha=gains.betaAlpha, gamma_d=gains.gammaD, delta_d=gains.deltaD,
    )


class SequenceReplay:
    """Replays one sequence; ``feed`` takes input frames 0, 1, 2, … in order."""

    def __init__(self, seed: int, sim: dict, options: ReplayOptions, apply_deltas: ApplyDeltas | None = None) -> None:
        from pattools.lattice.driver import use_threads_for_grid
        from pattools.lattice.init import create_state

        self.seed = seed
        self.sim = sim
        self.options = options
        self.apply_deltas = apply_deltas
        self.W = int(sim["W"])
        self.H = int(sim["H"])
        self.scale = int(sim["scale"])
        self.dt = float(sim["dt"])
        self.steps = int(sim["stepsPerFrame"])
        self.wrap = bool(sim["wrap"])
        self.noise_amp = float(sim["noiseAmp"])
        try:
            self.params = LatticeParams.preset().with_overrides(sim["params"])
            self.state = create_state(self.W, self.H, seed, self.params, wrap=self.wrap,
                                      noise_seed=int(sim["noiseSeed"]))
            use_threads_for_grid(self.W, self.H)
        except UsageError as err:
            raise DataError(str(err), path="sim") from None
        from pattools.simulation.frames import LatticeFrames

        # unmodulated steps and frames share work as in pat-export (same bytes as step + build_frame)
        self.run = LatticeFrames(self.state, self.params, self.dt, noise_amp=self.noise_amp,
                                 kernel=options.kernel, scale=self.scale)
        self.next_frame = 0
        self._blocks: dict[str | None, dict] = {}  # the replay block per edit id (one object each)
        self._last_delta: tuple | None = None  # (drives key, fields) of the last delta decode

    # ------------------------------------------------------------------ edits

    # ------------------------------------------------------------------ decoders

    def _geometry(self, patch_ids: list[str]):
        from pattools.replay.geometry import splat_geometry

        return splat_geometry(patch_ids, self.W, self.H, self.scale)

    def _decode_open_loop(self, edit: FrameEdit) -> ModFields | None:
        if self.options.decoder == "delta" and edit.applied is None:
            return None
        from pattools.replay import decoders

        tokens = edit.tokens
        weights = weight_column(tokens.patch_ids, edit.weights) if tokens is not None else None
        if self.options.decoder == "delta":
            cols = edit.deltas if edit.deltas is not None else edit.applied.per_token(tokens)
            rough, wind = decoders.pattern_drives(cols.geom, cols.topo, cols.rvq, self.options.constants)
            a, q = decoders.drives(cols.geom, cols.stats, cols.rvq, self.options.constants, cols.topo)
            wind_e = None
            if self.options.gains.etaV != 0.0:
                wind_e = decoders.wind_drive(cols.stats, self.options.constants)
                wind_e = wind_e if weights is None else wind_e * weights
            if weights is not None:
                a, q, rough, wind = a * weights, q * weights, rough * weights, wind * weights
            # An edit usually repeats its drives frame after frame: decode them once.
            key = (tuple(tokens.patch_ids), a.tobytes(), q.tobytes(), rough.tobytes(), wind.tobytes(),
                   None if wind_e is None else wind_e.tobytes())
            if self._last_delta is None or self._last_delta[0] != key:
                fields = decoders.decode_delta(a, q, self._geometry(tokens.patch_ids), self.W, self.H,
                                               rough=rough, wind=wind, scale=self.scale, wind_e=wind_e)
                self._last_delta = (key, fields)
            return self._last_delta[1]
        amp = decoders.token_amplitudes(tokens.stats)
        return decoders.decode_tokens(amp, self._geometry(tokens.patch_ids), self.W, self.H, weights)

    def _decode_live(self, edit: FrameEdit) -> ModFields:
        """Tokens from the live lattice (+ the frame's Δ) through the original decoder."""
        from pattools.replay import decoders
        from pattools.tokens.build import build_frame

        st = self.state
        built = build_frame(st.phases, st.energy, self.W, self.H, self.scale, 0.0, wrap=self.wrap,
                            metrics=_NO_METRICS)
        tokens = built.tokens
        if edit.applied is not None:
            if self.apply_deltas is None:
                raise RuntimeError("the live decoder needs apply_deltas to replay an edited frame")
            # the decoder reads stats only; the live tokens' codes need not be as long as the input's
            tokens = self.apply_deltas(tokens, edit.applied.without_codes())
        amp = decoders.token_amplitudes(tokens.stats)
        weights = weight_column(tokens.patch_ids, edit.weights)
        return decoders.decode_tokens(amp, self._geometry(tokens.patch_ids), self.W, self.H, weights)

    # ------------------------------------------------------------------ stepping

    def _step(self, fields: ModFields | None, wind: Wind | None = None) -> None:
        from pattools.lattice.driver import step

        if fields is None:
            self.run.step()
            return
        mods = _modulators(fields, self.options.gains)
        mods.wind = wind
        step(self.state, self.params, self.dt, mods=mods, noise_amp=self.noise_amp, kernel=self.options.kernel)

    def _frame_wind(self, fields: ModFields | None) -> Wind | None:
        """The wind of this frame (advect from θ at its start), or None."""
        if fields is None or fields.wind_a is None or self.options.gains.etaV == 0.0:
            return None
        from pattools.lattice.driver import frame_wind

        return frame_wind(self.state, fields.wind_a, self.options.gains.etaV)

    def feed(self, record: dict, edited: FrameEdit | None = None,
             columns: TokenFrame | None = None) -> ReplayedFrame | None:
        """Replay input frame ``record['frame']`` (must be the next one); None if not selected.
        ``edited``: what edits applied here did to the frame (else read from its edit block);
        ``columns``: the frame's tokens as checked columns, when read so."""
        frame = record["frame"]
        if frame != self.next_frame:
            raise DataError(expected_found(f"frame {self.next_frame} (frames of a sequence follow 0, 1, 2, …)",
                                           frame), path="frame")
        self.next_frame += 1
        if self.options.past_selection(frame):
            return None
        edit = edited if edited is not None else read_frame_edit(record, columns)
        if self.options.decoder == "live":
            fields = None
            for _ in range(self.steps):
                fields = self._decode_live(edit)
                self._step(fields)
        else:
            fields = self._decode_open_loop(edit)
            wind = self._frame_wind(fields)
            for _ in range(self.steps):
                self._step(fields, wind)
        if not self.options.selected(frame):
            return None
        return self._output(record, frame, fields, edit.edit_id)

    def _output(self, record: dict, frame: int, fields: ModFields | None, edit_id: str | None) -> ReplayedFrame:
        from pattools.tokens.build import build_frame

        t = (frame + 1) * self.steps * self.dt
        st = self.state
        if fields is None:
            built = self.run.frame(t)
        else:
            built = build_frame(st.phases, st.energy, self.W, self.H, self.scale, t, wrap=self.wrap, aact=fields.aact)
        out = {"kind": "PAT_FRAME", "version": 1, "seed": self.seed, "frame": frame, "sim": self.sim}
        if self.options.metrics or "metrics" in record:
            values = built.metrics.to_dict()
            values["patchDefects"] = built.patch_defects.tolist()
            out["metrics"] = values
        block = self._blocks.get(edit_id)
        if block is None:
            block = self._blocks[edit_id] = _replay_block(self.options, edit_id)
        out["replay"] = block
        return ReplayedFrame(out, built.tokens, fields, self.seed, frame, self.W, self.H)


def check_frame_record(record: dict, has_tokens: bool) -> None:
    """A PAT_FRAME with the fields a replay reads (its tokens given apart: ``has_tokens``)."""
    if record.get("kind") != "PAT_FRAME":
        raise DataError(expected_found('"PAT_FRAME"', record.get("kind")), path="kind")
    for name in ("seed", "frame", "sim"):
        if name not in record:
            raise DataError("missing required field", path=name)
    if not has_tokens:
        raise DataError("missing required field", path="tokens")


class Replayer:
    """Splits a frame stream into sequences and replays each (one frame in, ≤ one out).

    With ``options.validate`` every frame's envelope (kind, seed, frame, sim, edit,
    metrics) is schema-checked. A frame's tokens come apart from it, as checked columns
    (read by whoever composes the replay) and are checked against the frame's grid; they
    are read only where the replay needs them (``reads_tokens``): every frame for the
    tokens decoder, frames with an edit block for the delta and live decoders. Reading
    every token of every frame would cost about as much as the replay itself at fine
    scales (bench/bench_replay.py).

    ``apply_deltas(tokens, deltas)`` applies a frame's effective deltas to the live
    decoder's tokens (the one apply function, given by whoever composes the replay).
    """

    def __init__(self, options: ReplayOptions, apply_deltas: ApplyDeltas | None = None) -> None:
        self.options = options
        self.apply_deltas = apply_deltas
        self.current: SequenceReplay | None = None
        self._validated_sim: dict | None = None

    def validate(self, record: dict, has_tokens: bool) -> None:
        """Schema-check the envelope (``record``; its tokens, given apart, are checked where
        they are read, and against the grid in ``feed_checked``)."""
        from pattools.schema import same_value, validate

        sim = record.get("sim")
        # a sim block equal (types included) to the last one validated is not walked again
        trusted = ("sim",) if self._validated_sim is not None and same_value(sim, self._validated_sim) else ()
        envelope = {**record, "tokens": []} if has_tokens else record  # without: the schema names them
        validate(envelope, kind="PAT_FRAME", check_finite=False, trusted=trusted)
        self._validated_sim = sim

    def check(self, record: dict, has_tokens: bool) -> None:
        """Check an input frame's envelope (schema-checked with ``options.validate``) before
        its tokens are read; ``has_tokens``: whether it has tokens (given apart)."""
        if self.options.validate and record.get("kind") == "PAT_FRAME":
            self.validate(record, has_tokens)
        check_frame_record(record, has_tokens)

    def reads_tokens(self, record: dict) -> bool:
        """Whether replaying this frame reads its tokens (see the class docstring)."""
        return self.options.decoder == "tokens" or "edit" in record

    def feed_checked(self, record: dict, edited: FrameEdit | None, columns: TokenFrame | None) -> ReplayedFrame | None:
        """Replay one input frame already checked (``check``): its envelope, what edits
        applied to it did (``edited``; else its edit block says) and its tokens as columns
        where the replay reads them (``reads_tokens``; else None)."""
        if self.options.validate and columns is not None:
            from pattools.tokens.layout import check_token_layout

            check_token_layout(record["sim"], columns)
        seed = record["seed"]
        cur = self.current
        if cur is None or seed != cur.seed or record["frame"] == 0:
            if record["frame"] != 0:
                raise DataError(
                    expected_found("frame 0 (a sequence starts at frame 0; frames of different seeds "
                                   "must not interleave)", record["frame"]), path="frame")
            cur = self.current = SequenceReplay(seed, record["sim"], self.options, self.apply_deltas)
        elif record["sim"] != cur.sim:
            raise DataError("expected the same sim block on every frame of a sequence", path="sim")
        return cur.feed(record, edited, columns)
