"""The replay driver: re-run each sequence's lattice, steered frame by frame by decoded fields.

docs/replay.md. A sequence (the frames of one seed, 0, 1, 2, … without gaps) is
replayed from a fresh lattice built from its ``sim`` block. Input frame f steers the
``stepsPerFrame`` steps that produce output frame f; the output holds tokens built from
the live lattice after those steps, with attnMean/attnVar from the Aact field that drove
the last of them (none when no modulator was active, so a zero-edit delta replay is the
export). ``frames`` selects which output frames are built; the lattice always runs from
frame 0 and stops after the last selected frame.

Edits reach a frame two ways that steer identically: the frame's ``edit`` block (written
by pat-apply) and edit packages given to the replay, applied to the input frame here with
the same rules (pattools.edit.apply). The decoder sees the edited tokens and every
effective delta applied to the frame.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from pattools.edit.apply import apply_target, delta_columns_of
from pattools.edit.bounds import Bounds
from pattools.edit.applier import EditApplier, LoadedEdit, load_edit
from pattools.edit.dpat import EditPackage
from pattools.errors import DataError, UsageError, expected_found
from pattools.io.lazy_tokens import EncodedTokens
from pattools.io.frame_encoder import same_value
from pattools.lattice.metrics import LatticeMetrics
from pattools.lattice.modulators import Modulators
from pattools.lattice.params import LatticeParams
from pattools.replay import decoders
from pattools.replay.decoders import ModFields
from pattools.replay.geometry import splat_geometry
from pattools.replay.settings import DECODERS, DEFAULT_DECODER, DecoderConstants, Gains
from pattools.tokens.deltas import Deltas
from pattools.tokens.frame import TokenFrame

# Affect placeholder for the live decoder's per-step tokens: the original decoder reads
# only entropyRate and attnMean, so computeMetrics (which feeds only arousal/valence)
# is skipped there. Output frames always compute it.
_NO_METRICS = LatticeMetrics(0.0, 0.0, 0.0, 0, 0, 0.0, 0.0)


@dataclass(frozen=True)
class ReplayOptions:
    """How to replay (everything but the input and the edits)."""

    decoder: str = DEFAULT_DECODER
    gains: Gains = Gains()
    constants: DecoderConstants = DecoderConstants()
    frames: tuple[int | None, int | None] | None = None  # half-open output selection
    metrics: bool = False  # add metrics to every frame (else: as the input frame has them)
    kernel: str = "fast"
    bounds: Bounds = field(default_factory=Bounds.default)  # for edit packages
    clip: bool = False
    lenient: bool = False
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


@dataclass
class FrameEdit:
    """What edits did to one input frame: edited tokens, every effective delta, ids, weights."""

    tokens: TokenFrame | None  # None: not read (no decoder needs it); the layout only for delta/live
    applied: Deltas | None  # None: no delta at all
    edit_id: str | None
    weights: dict[str, float] | None  # head-hint weight by patchId (None: all 1)
    deltas: Deltas | None = None  # applied.per_token(tokens), when known already


def frame_edit(tokens: TokenFrame | None, applied: Deltas, edit_id: str, heads: list | None) -> FrameEdit:
    """A FrameEdit from an edit block's parts: every effective delta, the id, the dA heads hint
    (whose mean weight scales the drive of every patch the block touches)."""
    weights = None
    if heads is not None and len(applied):
        weight = _head_weight(heads)
        weights = {pid: weight for pid in applied.patch_ids}
    return FrameEdit(tokens, applied if len(applied) else None, edit_id, weights)


def _replay_block(options: ReplayOptions, edit_id: str | None) -> dict:
    return {
        "decoder": options.decoder,
        "gains": options.gains.to_record(),
        "constants": options.constants.to_record(),
        "editId": edit_id,
    }


def _modulators(fields: ModFields, gains: Gains) -> Modulators:
    return Modulators(
        fields.aact, fields.uact, fields.lap_a, fields.div_u,
        gamma_k=gains.gammaK, beta_k=gains.betaK, gamma_alpha=gains.gammaAlpha,
        beta_alpha=gains.betaAlpha, gamma_d=gains.gammaD, delta_d=gains.deltaD,
    )


def _layout(tokens: list) -> TokenFrame:
    """The token layout only (patch ids, code width): all the delta decoder reads of the tokens."""
    pids: list[str] = []
    dims = None
    for i, token in enumerate(tokens):
        try:
            pid = token["hdr"]["patchId"]
        except (TypeError, KeyError):
            raise DataError("expected a token with hdr.patchId", path=f"tokens[{i}].hdr.patchId") from None
        if not isinstance(pid, str):
            raise DataError(expected_found("string", pid), path=f"tokens[{i}].hdr.patchId")
        pids.append(pid)
        if dims is None and isinstance(token.get("code"), dict) and isinstance(token["code"].get("rvq"), list):
            dims = len(token["code"]["rvq"])
    frame = TokenFrame.empty(len(pids), code_dims=dims or 0)
    frame.patch_ids = pids
    if dims is None:
        frame.rvq = None
    return frame


def _weight_column(patch_ids: list[str], weights: dict[str, float] | None) -> np.ndarray | None:
    if weights is None:
        return None
    return np.array([weights.get(pid, 1.0) for pid in patch_ids], dtype=np.float64)


def _head_weight(heads: list) -> float:
    """One patch's amplitude factor from a dA hint: the mean of its heads' weights (1 if none)."""
    weights = [float(h.get("weight", 1.0)) for h in heads]
    return sum(weights) / len(weights) if weights else 1.0


class SequenceReplay:
    """Replays one sequence; ``feed`` takes input frames 0, 1, 2, … in order."""

    def __init__(self, seed: int, sim: dict, options: ReplayOptions) -> None:
        from pattools.lattice.driver import use_threads_for_grid
        from pattools.lattice.init import create_state

        self.seed = seed
        self.sim = sim
        self.options = options
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
        from pattools.tokens.lattice_frames import LatticeFrames

        # unmodulated steps and frames share work as in pat-export (same bytes as step + build_frame)
        self.run = LatticeFrames(self.state, self.params, self.dt, noise_amp=self.noise_amp,
                                 kernel=options.kernel, scale=self.scale)
        self.next_frame = 0
        self._blocks: dict[str | None, dict] = {}  # the replay block per edit id (one object each)
        self._last_delta: tuple | None = None  # (drives key, fields) of the last delta decode

    # ------------------------------------------------------------------ edits

    def _frame_edit(self, record: dict, columns: TokenFrame | None = None) -> FrameEdit:
        """Tokens, effective deltas, edit id and head-hint weights of one (edited) input frame."""
        block = record.get("edit")
        decoder = self.options.decoder
        if block is None and decoder != "tokens":
            return FrameEdit(None, None, None, None)
        if columns is not None:
            tokens = columns
        elif decoder == "tokens":
            try:
                tokens = TokenFrame.from_tokens(record["tokens"])
            except ValueError as exc:
                raise DataError(str(exc), path="tokens") from None
        else:
            tokens = _layout(record["tokens"])
        if block is None:
            return FrameEdit(tokens, None, None, None)
        applied = Deltas.from_dpats(block["applied"], prefix="edit.applied")
        return frame_edit(tokens, applied, block["id"], block.get("dA", {}).get("heads"))

    # ------------------------------------------------------------------ decoders

    def _geometry(self, patch_ids: list[str]):
        return splat_geometry(patch_ids, self.W, self.H, self.scale)

    def _decode_open_loop(self, edit: FrameEdit) -> ModFields | None:
        tokens = edit.tokens
        weights = _weight_column(tokens.patch_ids, edit.weights) if tokens is not None else None
        if self.options.decoder == "delta":
            if edit.applied is None:
                return None
            cols = edit.deltas if edit.deltas is not None else edit.applied.per_token(tokens)
            rough, wind = decoders.pattern_drives(cols.geom, cols.topo, cols.rvq, self.options.constants)
            a, q = decoders.drives(cols.geom, cols.stats, cols.rvq, self.options.constants, cols.topo)
            if weights is not None:
                a, q, rough, wind = a * weights, q * weights, rough * weights, wind * weights
            # An edit usually repeats its drives frame after frame: decode them once.
            key = (tuple(tokens.patch_ids), a.tobytes(), q.tobytes(), rough.tobytes(), wind.tobytes())
            if self._last_delta is None or self._last_delta[0] != key:
                fields = decoders.decode_delta(a, q, self._geometry(tokens.patch_ids), self.W, self.H,
                                               rough=rough, wind=wind, scale=self.scale)
                self._last_delta = (key, fields)
            return self._last_delta[1]
        amp = decoders.token_amplitudes(tokens.stats)
        return decoders.decode_tokens(amp, self._geometry(tokens.patch_ids), self.W, self.H, weights)

    def _decode_live(self, edit: FrameEdit) -> ModFields:
        """Tokens from the live lattice (+ the frame's Δ) through the original decoder."""
        from pattools.tokens.build import build_frame

        st = self.state
        built = build_frame(st.phases, st.energy, self.W, self.H, self.scale, 0.0, wrap=self.wrap,
                            metrics=_NO_METRICS)
        tokens = built.tokens
        if edit.applied is not None:
            tokens = apply_target(tokens, edit.applied, Bounds.unbounded()).tokens
        amp = decoders.token_amplitudes(tokens.stats)
        weights = _weight_column(tokens.patch_ids, edit.weights)
        return decoders.decode_tokens(amp, self._geometry(tokens.patch_ids), self.W, self.H, weights)

    # ------------------------------------------------------------------ stepping

    def _step(self, fields: ModFields | None) -> None:
        from pattools.lattice.driver import step

        if fields is None:
            self.run.step()
            return
        step(self.state, self.params, self.dt, mods=_modulators(fields, self.options.gains), noise_amp=self.noise_amp,
             kernel=self.options.kernel)

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
        edit = edited if edited is not None else self._frame_edit(record, columns)
        if self.options.decoder == "live":
            fields = None
            for _ in range(self.steps):
                fields = self._decode_live(edit)
                self._step(fields)
        else:
            fields = self._decode_open_loop(edit)
            for _ in range(self.steps):
                self._step(fields)
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


def _check_frame_record(record: dict) -> None:
    if record.get("kind") != "PAT_FRAME":
        raise DataError(expected_found('"PAT_FRAME"', record.get("kind")), path="kind")
    for name in ("seed", "frame", "sim", "tokens"):
        if name not in record:
            raise DataError("missing required field", path=name)


def load_edits(packages: Iterable[tuple[EditPackage, str | None, int | None]], options: "ReplayOptions") -> list[LoadedEdit]:
    """Edit packages (with where they were read) checked against the options' bounds."""
    return [load_edit(pkg, options.bounds, clip=options.clip, input=name, index=index)
            for pkg, name, index in packages]


class Replayer:
    """Splits a frame stream into sequences and replays each (one frame in, ≤ one out).

    Edit packages are applied to the input frames first, exactly as pat-apply does, so
    ``apply | replay`` and ``replay --edit`` see the same frames.

    With ``options.validate`` every frame's envelope (kind, seed, frame, sim, edit,
    metrics) is schema-checked, and its tokens too whenever their values are read: by the
    tokens decoder, or by an edit package applied here. The delta and live decoders read
    only the token layout (patch ids), so checking every token of every frame would cost
    about as much as the replay itself at fine scales (bench/bench_replay.py).
    """

    def __init__(self, options: ReplayOptions, edits: list[LoadedEdit] | None = None) -> None:
        self.options = options
        self.applier = None
        if edits:
            self.applier = EditApplier(edits, lenient=options.lenient)
        self.current: SequenceReplay | None = None
        self._validated_sim: dict | None = None

    def _validate(self, record: dict) -> None:
        """Schema-check the envelope, plus the tokens whose values this replay reads."""
        from pattools.schema import validate
        from pattools.tokens.layout import check_token_layout

        sim = record.get("sim")
        # a sim block equal (types included) to the last one validated is not walked again
        trusted = ("sim",) if self._validated_sim is not None and same_value(sim, self._validated_sim) else ()
        tokens = record.get("tokens")
        if not isinstance(tokens, list) or self.options.decoder == "tokens":
            validate(record, kind="PAT_FRAME", check_finite=False, trusted=trusted)
        else:
            envelope = dict(record)
            envelope["tokens"] = self._targeted_tokens(record, tokens)
            try:
                validate(envelope, kind="PAT_FRAME", check_finite=False, trusted=trusted)
            except DataError:
                validate(record, kind="PAT_FRAME", check_finite=False)  # the path of the first bad field
                raise
        if isinstance(tokens, list) and tokens:
            check_token_layout(sim, tokens)
        self._validated_sim = sim

    def _targeted_tokens(self, record: dict, tokens: list) -> list:
        """The tokens an edit package applied here will read (those it names), in order."""
        if self.applier is None:
            return []
        named: set = set()
        for edit in self.applier.edits:
            target = edit.frames.get(record.get("frame")) if edit.package.seed == record.get("seed") else None
            if target is not None:
                named.update(target.batch.patch_ids)
        if not named:
            return []
        def read(token: object) -> bool:
            hdr = token.get("hdr") if isinstance(token, dict) else None
            pid = hdr.get("patchId") if isinstance(hdr, dict) else None
            return not isinstance(pid, str) or pid in named  # malformed tokens are checked too

        return [t for t in tokens if read(t)]

    def _reads_tokens(self, record: dict) -> bool:
        """Whether replaying this frame reads its tokens (see the class docstring)."""
        if self.options.decoder == "tokens" or "edit" in record:
            return True
        return self.applier is not None and self._targeted(record)

    def prepare(self, window: list[tuple]) -> dict[int, tuple]:
        """Apply the edit packages to the targeted frames of a window of input tuples
        (record, name, index, encoded tokens) many frames at once (pattools.edit.stacked);
        {position in window: (columns, result)} for ``feed(..., prepared=...)``. Anything
        unusual (maps instead of encoded tokens, a data error) is left to ``feed``, which
        then meets every error in input order."""
        if self.applier is None:
            return {}
        positions, items = [], []
        for position, (record, _name, _index, *encoded) in enumerate(window):
            tokens = encoded[0] if encoded else None
            if (tokens is None or record.get("kind") != "PAT_FRAME" or not isinstance(record.get("sim"), dict)
                    or not self._targeted(record)):
                continue
            columns = tokens.columns()
            if columns is not None:
                positions.append(position)
                items.append((record, columns))
        if len(items) < 2:
            return {}
        try:
            results = self.applier.apply_columns_many_effective(items)
        except (DataError, KeyError, TypeError, ValueError):
            return {}
        return {position: (columns, done) for position, (_, columns), done in zip(positions, items, results)}

    def feed(self, record: dict, tokens: EncodedTokens | None = None,
             prepared: tuple | None = None) -> ReplayedFrame | None:
        """Replay one input frame; ``tokens``, when given, are its token array still encoded
        (record["tokens"] is then a placeholder), decoded only if this replay reads them;
        ``prepared``: its (columns, edit result) from ``prepare``."""
        if prepared is not None:
            columns, done = prepared
            if self.options.validate:
                self._validate({**record, "tokens": []})
            _check_frame_record(record)
            return self._feed_checked(record, None if done is None else self._frame_edit_of(record, done), columns)
        columns = None  # the tokens as checked columns, read straight from their bytes
        if tokens is not None and self._reads_tokens(record):
            columns = tokens.columns() if record.get("kind") == "PAT_FRAME" else None
            if columns is None:
                record = dict(record)
                record["tokens"] = tokens.decode()
        edited = None
        if (self.applier is not None and record.get("kind") == "PAT_FRAME" and isinstance(record.get("tokens"), list)
                and self._targeted(record)):
            edited, record = self._apply_edits(record, columns)
        elif self.options.validate and record.get("kind") == "PAT_FRAME":
            self._validate(record if columns is None else {**record, "tokens": []})
        _check_frame_record(record)
        if self.applier is not None and edited is None and not self._targeted(record):
            self.applier.observe(record)  # seeds and sims seen, for unmatched()
        return self._feed_checked(record, edited, columns)

    def _feed_checked(self, record: dict, edited: FrameEdit | None, columns: TokenFrame | None) -> ReplayedFrame | None:
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
            cur = self.current = SequenceReplay(seed, record["sim"], self.options)
        elif record["sim"] != cur.sim:
            raise DataError("expected the same sim block on every frame of a sequence", path="sim")
        return cur.feed(record, edited, columns)

    def _targeted(self, record: dict) -> bool:
        """Whether an edit package may target this frame (its seed and frame; sims checked later)."""
        seed, frame = record.get("seed"), record.get("frame")
        return any(edit.package.seed == seed and frame in edit.frames for edit in self.applier.edits)

    def _apply_edits(self, record: dict, columns: TokenFrame | None) -> tuple[FrameEdit | None, dict]:
        """Validate a targeted frame and apply the edit packages to it, as pat-apply would.

        Tokens of the common shape (``columns`` when already read from their bytes) are
        checked and edited as columns, giving the FrameEdit directly; other frames take the
        record path (only the tokens an edit names are read and checked), giving the edited
        record. Returns (FrameEdit or None, record)."""
        from pattools.io.token_columns import checked_columns

        if columns is None:
            columns = checked_columns(record["tokens"])
        if columns is None:
            if self.options.validate:
                self._validate(record)
            _check_frame_record(record)
            return None, self.applier.apply(record) or record
        if self.options.validate:
            self._validate({**record, "tokens": []})
        _check_frame_record(record)
        done = self.applier.apply_columns_effective(record, columns)
        return (None if done is None else self._frame_edit_of(record, done)), record

    @staticmethod
    def _frame_edit_of(record: dict, done: tuple) -> FrameEdit:
        """The FrameEdit of edits applied on columns: (edited columns, changes)."""
        tokens, changes = done
        block = record.get("edit")
        batches = [] if block is None else [Deltas.from_dpats(block["applied"], prefix="edit.applied")]
        ids = [] if block is None else [block["id"]]
        heads = None if block is None else block.get("dA", {}).get("heads")
        for edit, target, result in changes:
            batches.append(result.effective.batch())
            ids.append(edit.package.id)
            heads = target.heads if target.heads is not None else heads
        edit = frame_edit(tokens, Deltas.concat(batches), "+".join(ids), heads)
        if block is None and edit.applied is not None:
            edit.deltas = delta_columns_of(tokens, [result for _, _, result in changes])
        return edit

    def finish(self) -> None:
        """Raise the first problem with an edit that matched no input frame."""
        if self.applier is not None:
            problems = self.applier.unmatched()
            if problems:
                raise problems[0]


def replay_frames(records: Iterable[tuple], options: ReplayOptions,
                  edits: list[LoadedEdit] | None = None) -> Iterator[ReplayedFrame]:
    """Replayed frames of (record, input name, index[, encoded tokens]) tuples, in order."""
    replayer = Replayer(options, edits)
    for window in _windows(records, WINDOW if replayer.applier is not None else 1):
        prepared = replayer.prepare(window)
        for position, (record, name, index, *encoded) in enumerate(window):
            try:
                out = replayer.feed(record, *encoded, prepared=prepared.get(position))
            except DataError as err:
                raise err.located(input=name, record=index)
            if out is not None:
                yield out
    replayer.finish()


WINDOW = 64  # input frames whose edits apply together (read ahead)


def _windows(items: Iterable, size: int) -> Iterator[list]:
    window: list = []
    for item in items:
        window.append(item)
        if len(window) == size:
            yield window
            window = []
    if window:
        yield window


def replay_pairs(records: Iterable[tuple], options: ReplayOptions,
                 edits_a: list[LoadedEdit] | None = None,
                 edits_b: list[LoadedEdit] | None = None) -> Iterator[tuple[ReplayedFrame, ReplayedFrame]]:
    """Two independent replays of the same input, in lockstep (for --verify).

    Each replay has its own lattice and its own loaded edits; the input is read once.
    """
    first = Replayer(options, edits_a)
    second = Replayer(options, edits_b)
    for record, name, index, *encoded in records:
        try:
            a = first.feed(record, *encoded)
            b = second.feed(record, *encoded)
        except DataError as err:
            raise err.located(input=name, record=index)
        if (a is None) != (b is None):
            raise RuntimeError("replays disagree on which frames to write")
        if a is not None:
            yield a, b
    first.finish()
    second.finish()
