"""nupca-step: the NUPCA3 agent step — one completion-operator step per observation."""

from __future__ import annotations

import argparse

from pattools.cli import base
from pattools.cli.documents import read_config
from pattools.errors import UsageError
from pattools.io import RecordWriter, read_records
from pattools.io.nonempty import require_records

NAME = "nupca-step"
SUMMARY = ("Run the NUPCA3 agent: fovea selection, the single completion operator, working set, "
           "fusion, learning and REST edits, one step per observation.")
EXAMPLES = (
    "nupca-step --synthetic rotations,128,32,2000 > obs.cbor   # an observation stream to try",
    "nupca-step --init 128,32 > state.cbor",
    "nupca-step --state state.cbor --format jsonl < obs.cbor | jq '[.prior_obs_mae, .persistence_mae]'",
    "nupca-step --init 1024,256 > state.cbor",
    "nupca-step --state state.cbor < observations.cbor > trace.cbor",
    "nupca-step --state s0.cbor --state-out s1.cbor --rest-every 500 --checkpoint 100 obs.jsonl > trace.cbor",
    "pat-export --frames 300 | nupca-step --from-pat --state-out agent.cbor --format jsonl | jq .prior_obs_mae",
)
NOTES = (
    "Observations are NUPCA_OBS records ({kind, version, x_partial: {dims, values}, rest?, control?});\n"
    "each produces one NUPCA_TRACE record on stdout. --init writes a fresh NUPCA_STATE to stdout.\n"
    "The state is written atomically at the end (to --state-out, else back to --state) and every\n"
    "--checkpoint N steps; after a bad input record the steps already taken are saved, then the\n"
    "command exits 1. With --from-pat the input is PAT_FRAME records: one block per patch,\n"
    "14 features per token (cos/sin phi_gf, cos/sin 2·theta, gradPhi, kappa, rho, energy,\n"
    "entropyRate, arousal, valence, attnMean, attnVar, vortex); without --state the state is\n"
    "made from the first frame (fovea budget ceil(patches/4) blocks unless --config sets it).\n"
    "Each trace carries prior_obs_mae (the agent's prior against the cue on O_t) beside\n"
    "persistence_mae (each observed dim predicted by the value it had when last observed, 0\n"
    "before its first observation): the agent earns its keep when the first is below the second.\n"
    "--synthetic KIND,D,B,T[,SEED] writes T NUPCA_OBS records of a linear block environment:\n"
    "rotations (x(t+1) = R_b x(t) per block, R_b a random rotation) or ar1 (x(t+1) = A_b x(t) + e,\n"
    "A_b random with spectral radius 0.95, e ~ N(0, 0.01^2)); x(0) ~ U(-1, 1), every dim offered.\n"
    "States of another version (1: before persistence-initialised, RLS-trained experts) are refused."
)


def _dimensions(text: str) -> tuple[int, int]:
    parts = text.split(",")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"expected D,B (two positive integers), got {text!r}")
    try:
        return base.positive_int(parts[0]), base.positive_int(parts[1])
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected D,B (two positive integers), got {text!r}") from None


def _synthetic(text: str) -> tuple[str, int, int, int, int]:
    from pattools.nupca.synthetic import KINDS

    parts = text.split(",")
    usage = f"expected KIND,D,B,T[,SEED] with KIND one of {', '.join(KINDS)}, got {text!r}"
    if len(parts) not in (4, 5) or parts[0] not in KINDS:
        raise argparse.ArgumentTypeError(usage)
    try:
        dim, blocks, steps = (base.positive_int(p) for p in parts[1:4])
        seed = int(parts[4]) if len(parts) == 5 else 0
    except (argparse.ArgumentTypeError, ValueError):
        raise argparse.ArgumentTypeError(usage) from None
    if blocks > dim or seed < 0:
        raise argparse.ArgumentTypeError(f"expected B <= D and SEED >= 0, got {text!r}")
    return parts[0], dim, blocks, steps, seed


def build_parser() -> argparse.ArgumentParser:
    parser = base.make_parser(NAME, SUMMARY, EXAMPLES, notes=NOTES)
    base.add_inputs(parser, help_text="observation stream (NUPCA_OBS, or PAT_FRAME with --from-pat; "
                                      "CBOR sequence or JSONL, sniffed); '-' or nothing reads stdin")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--init", type=_dimensions, metavar="D,B",
                        help="write a fresh state with D dims in B blocks to stdout and exit")
    source.add_argument("--state", metavar="S", help="the state file to start from")
    source.add_argument("--synthetic", type=_synthetic, metavar="KIND,D,B,T[,SEED]",
                        help="write T observations of a synthetic environment (rotations or ar1) to stdout "
                             "and exit")
    parser.add_argument("--config", metavar="C",
                        help="JSON configuration (keys of the agent; defaults otherwise) for --init, or for "
                             "the state --from-pat makes from the first frame")
    parser.add_argument("--state-out", metavar="S2", help="where to write the new state (default: back to --state)")
    parser.add_argument("--trace", choices=("summary", "full"), default="summary",
                        help="summary (default) or full: add x_t, prior, prediction and its precision")
    parser.add_argument("--rest-every", type=base.positive_int, metavar="N",
                        help="make every N-th step (t = N-1, 2N-1, ...) a REST step")
    parser.add_argument("--checkpoint", type=base.positive_int, metavar="N",
                        help="also write the state every N steps")
    parser.add_argument("--from-pat", action="store_true", help="read PAT_FRAME records as observations")
    parser.add_argument("--drop-nonfinite", action="store_true",
                        help="drop (and count) non-finite cue values in typed-array data instead of failing")
    base.add_format(parser)
    base.add_validation(parser)
    base.add_verbosity(parser)
    return parser


def run(options: argparse.Namespace, streams: base.Streams) -> int:
    from pattools.nupca import codec, runner

    fmt = base.output_format(options, streams)
    if options.synthetic is not None:
        if options.from_pat or options.state_out or options.config or options.inputs != ["-"]:
            raise UsageError("--synthetic writes observations to stdout; it takes no inputs, --from-pat, "
                             "--config or --state-out")
        runner.write_synthetic(*options.synthetic, RecordWriter(streams.stdout, fmt))
        return base.EXIT_OK
    if options.init is not None and (options.from_pat or options.state_out or options.inputs != ["-"]):
        raise UsageError("--init writes a state to stdout; it takes no inputs, --from-pat or --state-out")
    if options.init is None and options.state is None and not options.from_pat:
        raise UsageError("need --state S (make one with --init D,B), or --from-pat")
    if options.config and options.state:
        raise UsageError("--config applies to --init and to --from-pat without --state (a state keeps its own)")
    state_path = options.state_out or options.state
    if options.init is None and state_path:
        from pattools.io.paths import check_output_file

        check_output_file(state_path, "--state-out" if options.state_out else "--state")
    config_document = read_config(options.config) if options.config else None
    if options.init is not None:
        state = runner.new_state(*options.init, config_document, options.config)
        streams.stdout.write(runner.state_record_bytes(state, fmt))
        return base.EXIT_OK
    state, state_format = None, "cbor"
    if options.state:
        state, state_format = runner.load_state(options.state, validate=options.validate,
                                                max_record_bytes=options.max_record_bytes)
    run_options = runner.RunOptions(
        trace_full=options.trace == "full",
        rest_every=options.rest_every,
        checkpoint=options.checkpoint,
        state_out=options.state_out or options.state,
        state_format=state_format,
        drop_nonfinite=options.drop_nonfinite,
        from_pat=options.from_pat,
        config_document=config_document,
        config_name=options.config,
    )
    records = require_records(read_records(options.inputs, validate=options.validate,
                                           max_record_bytes=options.max_record_bytes, stdin=streams.stdin,
                                           shards=base.shard_reading(options, streams, NAME),
                                           columns=options.from_pat),
                              options.inputs, "PAT_FRAME records" if options.from_pat else "NUPCA_OBS records")
    writer = RecordWriter(streams.stdout, fmt)
    _state, summary = runner.run(records, state, writer, run_options)
    state_note = f", state written to {run_options.state_out}" if run_options.state_out else ""
    base.report(streams, f"{base.plural(summary.steps, 'step')}{state_note}", summary.steps, "steps")
    if summary.dropped_nonfinite:
        base.warn(streams, NAME, f"dropped {summary.dropped_nonfinite} non-finite cue values", options)
    return base.EXIT_OK


main = base.entry_point(NAME, build_parser, run)

if __name__ == "__main__":
    main()
