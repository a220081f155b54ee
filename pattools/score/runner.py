"""pat-score's two ways in: scores from replay files, or from the original frames with the
replays run here (each twice, for the determinism figure), through the replay library."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pattools.edit.dpat import EditPackage
from pattools.edit.regions import Regions
from pattools.errors import DataError
from pattools.io import Record
from pattools.score.evaluate import ScoreSettings, determinism_rmse, score_edit
from pattools.score.sequences import Sequence, read_sequences


def load_edits(records: Iterable[Record]) -> list[tuple[EditPackage, str, int]]:
    """Edit packages of (already validated) records; a record of another kind is a data error."""
    from pattools.edit.applier import edit_packages

    return list(edit_packages(records, validate=False))


def load_sequences(records: Iterable[Record], keep_records: bool = False) -> list[Sequence]:
    return list(read_sequences(records, keep_records=keep_records))


def _by_seed(seqs: list[Sequence] | None, what: str) -> dict[int, Sequence]:
    out: dict[int, Sequence] = {}
    for seq in seqs or []:
        if seq.seed in out:
            raise DataError(f"{what} holds seed {seq.seed} twice", input=seq.input, path="seed")
        out[seq.seed] = seq
    return out


def _edit_for(seq: Sequence, edits: list[tuple[EditPackage, str, int]]) -> EditPackage:
    """The edit an edited replay was made with: the id in its replay block, else the only
    edit for its seed."""
    ids = {b.get("editId") for b in seq.replays if isinstance(b, dict) and b.get("editId")}
    for pkg, _, _ in edits:
        if pkg.seed == seq.seed and pkg.id in ids:
            return pkg
    candidates = [pkg for pkg, _, _ in edits if pkg.seed == seq.seed]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise DataError(f"no edit for seed {seq.seed} in the edit file", input=seq.input, path="seed")
    raise DataError(f"{len(candidates)} edits for seed {seq.seed} and the replay names none of them "
                    "(score one edit per edited replay)", input=seq.input, path="replay.editId")


def score_files(
    base: list[Sequence],
    edited: list[Sequence],
    edits: list[tuple[EditPackage, str, int]],
    *,
    edited2: list[Sequence] | None = None,
    reference: list[Sequence] | None = None,
    regions: Regions | None = None,
    settings: ScoreSettings = ScoreSettings(),
) -> Iterator[dict]:
    """One PAT_SCORE per sequence of the edited replay."""
    bases = _by_seed(base, "the base replay")
    seconds = _by_seed(edited2, "the second edited replay")
    refs = _by_seed(reference, "the original")
    for seq in edited:
        if seq.seed not in bases:
            raise DataError(f"the base replay has no sequence for seed {seq.seed}", input=seq.input, path="seed")
        if edited2 is not None and seq.seed not in seconds:
            raise DataError(f"the second edited replay has no sequence for seed {seq.seed}", input=seq.input,
                            path="seed")
        yield score_edit(bases[seq.seed], seq, _edit_for(seq, edits), reference=refs.get(seq.seed),
                         edited2=seconds.get(seq.seed), regions=regions, settings=settings)


def _replayed(records: list[tuple[dict, str, int]], seq: Sequence, options, edit) -> Sequence:
    from pattools.edited_replay import load_edits as load_replay_edits
    from pattools.edited_replay import replay_frames

    out = Sequence(seq.seed, seq.sim, "replay")
    edits = None if edit is None else load_replay_edits([edit])
    for frame in replay_frames(records, options, edits):
        metrics = frame.envelope.get("metrics")
        out.frames.append(frame.frame)
        out.tokens.append(frame.tokens)
        out.patch_defects.append(None if metrics is None else metrics.get("patchDefects"))
        out.edits.append(None)
        out.replays.append(frame.envelope.get("replay"))
    return out


def score_original(
    original: list[Sequence],
    edits: list[tuple[EditPackage, str, int]],
    *,
    decoder: str | None = None,
    regions: Regions | None = None,
    settings: ScoreSettings = ScoreSettings(),
    twice: bool = True,
    replay_options=None,
) -> Iterator[dict]:
    """Replay each sequence without and with each edit (twice each, unless not ``twice``:
    then the determinism figures are null) and score every edit. ``replay_options``
    (a ``pattools.replay.driver.ReplayOptions``) overrides ``decoder``."""
    from pattools.replay.driver import ReplayOptions

    if replay_options is not None:
        options = replay_options
    else:
        options = ReplayOptions() if decoder is None else ReplayOptions(decoder=decoder)
    seqs = _by_seed(original, "the original")
    bases: dict[int, tuple[Sequence, float]] = {}
    for pkg, name, index in edits:
        seq = seqs.get(pkg.seed)
        if seq is None:
            raise DataError(f"the original frames have no sequence for seed {pkg.seed}", input=name,
                            record=index, path="seed")
        records = _records_of(seq)
        if pkg.seed not in bases:
            b1 = _replayed(records, seq, options, None)
            b2 = _replayed(records, seq, options, None) if twice else None
            bases[pkg.seed] = (b1, None if b2 is None else determinism_rmse(b1, b2))
        base, base_rmse = bases[pkg.seed]
        e1 = _replayed(records, seq, options, (pkg, name, index))
        e2 = _replayed(records, seq, options, (pkg, name, index)) if twice else None
        score = score_edit(base, e1, pkg, reference=seq, edited2=e2, regions=regions, settings=settings)
        score["baseDeterminismRMSE"] = base_rmse
        yield score


def _records_of(seq: Sequence) -> list[tuple[dict, str, int]]:
    """The sequence's own PAT_FRAME records, for the replay driver."""
    if not seq.records:
        raise DataError("the original frames were read without their records", input=seq.input)
    return seq.records
