"""Driving the agent over a record stream: one step per observation, traces out, state saved.

The command layer (``pattools/cli/nupca_step.py``) only parses flags and calls these.
The state is written atomically (temporary file, then rename) at the end and every
``checkpoint`` steps, so an interrupted run loses at most that many steps. When an
input record turns out to be bad, the state of the steps already taken (and traced) is
saved before the error is reported, so trace and state always agree (unless the step
itself failed half-way — learning diverged — then the last checkpoint stands).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pattools import schema
from pattools.errors import DataError
from pattools.io import Record, RecordWriter, read_records, write_atomic
from pattools.nupca import codec, pat, synthetic
from pattools.nupca.config import config_from_dict
from pattools.nupca.state import NupcaState, init_state
from pattools.nupca.step import step


@dataclass
class RunOptions:
    trace_full: bool = False
    rest_every: int | None = None
    checkpoint: int | None = None
    state_out: str | None = None
    state_format: str = "cbor"
    drop_nonfinite: bool = False
    from_pat: bool = False
    config_document: dict | None = None  # for a state made from the first PAT frame
    config_name: str | None = None


@dataclass
class RunSummary:
    steps: int = 0
    dropped_nonfinite: int = 0


def new_state(dim: int, blocks: int, config_document: dict | None = None, config_name: str | None = None) -> NupcaState:
    """A fresh state for ``--init D,B`` (configuration keys from a file on top of the defaults)."""
    values = dict(config_document or {})
    for key, value in (("D", dim), ("B", blocks)):
        if key in values and values[key] != value:
            raise DataError(f"{key} = {values[key]!r} in the configuration conflicts with --init ({value})",
                            input=config_name, path=key)
        values[key] = value
    try:
        return init_state(config_from_dict(values))
    except DataError as err:
        raise err.located(input=config_name) from None


def write_synthetic(kind: str, dim: int, blocks: int, steps: int, seed: int, writer: RecordWriter) -> None:
    """``steps`` NUPCA_OBS records of the synthetic environment ``kind`` (``--synthetic``)."""
    environment = synthetic.environment(kind, config_from_dict({"D": dim, "B": blocks}), seed=seed)
    for obs in environment.stream(steps):
        writer.write(codec.observation_to_record(obs, writer.format))


def state_record_bytes(state: NupcaState, fmt: str) -> bytes:
    return RecordWriter(None, fmt).encode(codec.state_to_record(state, fmt))  # type: ignore[arg-type]


def save_state(state: NupcaState, path: str, fmt: str) -> None:
    write_atomic(path, state_record_bytes(state, fmt))


def load_state(path: str, *, validate: bool = True, max_record_bytes: int | None = None) -> tuple[NupcaState, str]:
    """The state in file ``path`` and the framing it was written in."""
    kwargs = {} if max_record_bytes is None else {"max_record_bytes": max_record_bytes}
    records = list(read_records([path], validate=False, expand_shards=False, **kwargs))
    if len(records) != 1:
        raise DataError(f"expected one NUPCA_STATE record, got {len(records)} records", input=path)
    record = records[0]
    kind = record.value.get("kind") if isinstance(record.value, dict) else None
    if kind != "NUPCA_STATE":
        raise DataError(f"expected kind NUPCA_STATE, got {kind!r}", input=path, record=0, path="kind")
    try:
        codec.check_state_version(record.value)  # before the schema: an old state gets one plain line
    except DataError as err:
        raise err.located(input=path, record=0) from None
    if validate:
        schema.validate(record.value, kind="NUPCA_STATE", input=path, index=0)
    try:
        state = codec.state_from_record(record.value)
    except DataError as err:
        raise err.located(input=path, record=0) from None
    return state, record.framing or "cbor"


def run(records: Iterable[Record], state: NupcaState | None, writer: RecordWriter, options: RunOptions) -> tuple[NupcaState | None, RunSummary]:
    """Step once per record, writing one NUPCA_TRACE per step."""
    summary = RunSummary()
    consistent = True
    kind = "PAT_FRAME" if options.from_pat else "NUPCA_OBS"
    try:
        for record in records:
            value = record.value  # a PAT_FRAME's envelope; any other record whole
            if value.get("kind") != kind:
                hint = " (use --from-pat)" if value.get("kind") == "PAT_FRAME" else ""
                raise DataError(f"expected kind {kind}, got {value.get('kind')!r}{hint}", input=record.input,
                                record=record.index, path="kind")
            try:
                if options.from_pat:
                    tokens = None if record.tokens is None else record.tokens.frame()
                    patches = 0 if tokens is None else len(tokens)
                    if state is None:
                        state = init_state(pat.pat_config(patches, options.config_document))
                    else:
                        pat.check_geometry(state.config, patches)
                    obs = pat.observation_from_frame(value, tokens, state.config.B)
                else:
                    obs, dropped = codec.observation_from_record(value, state.D, drop_nonfinite=options.drop_nonfinite)
                    summary.dropped_nonfinite += dropped
            except DataError as err:
                raise err.located(input=record.input, record=record.index) from None
            if options.rest_every and (state.t + 1) % options.rest_every == 0:
                obs.rest = True
            try:
                trace = step(state, obs, full=options.trace_full)
            except DataError as err:
                consistent = False  # a step that failed half-way leaves no state worth saving
                raise err.located(input=record.input, record=record.index) from None
            writer.write(codec.trace_to_record(trace, writer.format))
            summary.steps += 1
            if options.checkpoint and options.state_out and summary.steps % options.checkpoint == 0:
                save_state(state, options.state_out, options.state_format)
    except DataError:
        if consistent and state is not None and options.state_out and summary.steps:
            save_state(state, options.state_out, options.state_format)
        raise
    if state is not None and options.state_out:
        save_state(state, options.state_out, options.state_format)
    return state, summary
