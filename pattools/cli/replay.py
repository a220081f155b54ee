"""pat-replay: rebuild attention fields from tokens and re-run the simulation."""

from __future__ import annotations

import argparse

from pattools.cli import base
from pattools.cli.ranges import parse_range

NAME = "pat-replay"
SUMMARY = ("Re-run each sequence's lattice from its sim block, steered only through attention "
           "modulators decoded from the frames' tokens and edits, and write the replayed frames.")
EXAMPLES = (
    "pat-export --seeds 7 --frames 16 | pat-replay > replay.cbor     # zero edit: the export again",
    "pat-export --seeds 7 | pat-apply --edit e.cbor | pat-replay > edited.cbor",
    "pat-export --seeds 7 | pat-replay --edit e.cbor > edited.cbor   # the same replay",
    "pat-replay --decoder live --frames 8:16 --metrics frames.cbor",
    "pat-replay --verify --decoder tokens frames.cbor > /dev/null",
    "pat-replay --fields fields/ --edit e.cbor frames.cbor > edited.cbor",
)
NOTES = """\
decoders (--decoder):
  delta   (default) modulators from the frame's edit deltas only. Per patch a coupling
          drive a = kRho*drho - kEnt*dentropyRate - kGrad*dgradPhi/pi + kA*dA + kAttn*dattnMean
          - kKappa*min(dkappa,0) + kAffect*(dvalence - darousal) + kChirK*|dchirality|
          (a code step without its field delta counts as one bin width), a phase-lag drive
          q = kPhase*dphi_gf + kEnergy*denergy, a roughening drive r = kRough*max(dkappa,0)
          and a winding drive w = kChir*dchirality. a and q are splatted as Gaussians
          (sigma = max(2, round(scale/2))): A from max(a,0), U from max(-a,0); lapA = splat(q)
          + checkerboard*splat(r) + sum of w*azimuth around each patch centre (weight 1 out
          to half a patch, 0 from 3/4 of a patch); Aact = tanh A, Uact = tanh U, divU = 0. Coupling
          rises where coherence should rise; a uniform lag shifts a patch's frequency (its
          phase, and its energy through the surface layers); a checkerboard lag roughens the
          phase (curvature); an azimuthal lag winds it around the patch centre (chirality).
          Frames without an edit run unmodulated, so a zero-edit replay reproduces the
          export exactly.
  tokens  the original token-only decoder on the (edited) input tokens, open loop: amplitude
          attnMean (if > 0) else entropyRate splatted, U = box blur of A, Aact/Uact = tanh,
          lapA/divU = 5-point Laplacians.
  live    the original closed-loop token-only mode: before every step, tokens rebuilt from the
          live lattice (plus the frame's deltas) go through the original decoder.

Input frame f steers the stepsPerFrame steps that produce output frame f. Each sequence must
start at frame 0 with no gaps; --frames only selects output frames (the lattice always runs
from frame 0). Edits come from the frames' edit blocks (pat-apply) and from --edit, applied
here exactly as pat-apply would; head-hint weights (dA.heads) scale the drive of the patches
they were attached to. Every output frame carries a replay block: decoder, gains, constants
and the id of the edit that changed its input frame (null when none). Frames carry metrics
when their input frame did, or with --metrics. Validation (on by default) checks every
frame's envelope (kind, seed, frame, sim, edit block, metrics) and its tokens whenever they
are read (all of them, as columns: the tokens decoder, a frame with an edit block, an
--edit target frame); the delta and live decoders leave other frames' token arrays
undecoded (their CBOR is only checked to be well-formed and free of tags). Memory:
streams, one lattice state at a time."""

GAIN_FLAGS = (
    ("--gamma-k", "gammaK", "coupling gain of Aact_i*Aact_j"),
    ("--beta-k", "betaK", "coupling loss of Uact_i*Uact_j"),
    ("--gamma-alpha", "gammaAlpha", "phase-lag gain of lapA"),
    ("--beta-alpha", "betaAlpha", "phase-lag gain of divU"),
    ("--gamma-d", "gammaD", "noise reduction by Aact (only with noise)"),
    ("--delta-d", "deltaD", "noise increase by Uact (only with noise)"),
    ("--eta-v", "etaV", "wind gain (0: no wind): the delta decoder's wind field A draws energy into patches "
                        "whose energy delta is positive (docs/replay.md)"),
)
CONSTANT_FLAGS = (
    ("--k-rho", "kRho", "delta decoder: coupling drive per unit of rho delta"),
    ("--k-ent", "kEnt", "delta decoder: coupling drive per unit of entropyRate delta (negative)"),
    ("--k-grad", "kGrad", "delta decoder: coupling drive per pi of gradPhi delta (negative)"),
    ("--k-a", "kA", "delta decoder: coupling drive per unit of A delta"),
    ("--k-attn", "kAttn", "delta decoder: coupling drive per unit of attnMean delta"),
    ("--k-phase", "kPhase", "delta decoder: phase drive per radian of phi_gf delta (negative: a positive lag "
                            "makes a patch's phase drift down)"),
    ("--k-energy", "kEnergy", "delta decoder: phase-lag drive per unit of energy delta (a lag slows the "
                              "field against its surface layers, which feeds energy)"),
    ("--k-kappa", "kKappa", "delta decoder: coupling drive per unit of kappa decrease (smooths the phase)"),
    ("--k-rough", "kRough", "delta decoder: checkerboard phase-lag drive per unit of kappa increase"),
    ("--k-chir", "kChir", "delta decoder: azimuthal phase-lag drive per unit of chirality delta (winds "
                          "the phase around the patch centre)"),
    ("--k-chir-k", "kChirK", "delta decoder: coupling drive per unit of |chirality delta|"),
    ("--k-affect", "kAffect", "delta decoder: coupling drive per unit of valence delta minus arousal delta"),
    ("--k-wind-e", "kWindE", "delta decoder: wind field A per unit of positive energy delta (only with --eta-v)"),
)




def build_parser() -> argparse.ArgumentParser:
    from pattools.replay.settings import DECODERS, DEFAULT_DECODER, DecoderConstants, Gains

    parser = base.make_parser(NAME, SUMMARY, EXAMPLES, NOTES)
    base.add_inputs(parser, help_text="PAT_FRAME input (stream, shard file or shard directory); '-' or nothing "
                                      "reads stdin")
    replay = parser.add_argument_group("replay")
    replay.add_argument("--decoder", choices=list(DECODERS), default=DEFAULT_DECODER,
                        help=f"token-to-field decoder (default {DEFAULT_DECODER}; see above)")
    replay.add_argument("--edit", action="append", default=[], metavar="EDITS",
                        help="PAT_EDIT file applied to the input frames before decoding, as pat-apply would "
                             "(repeatable; edits apply in the order given)")
    replay.add_argument("--frames", type=parse_range, metavar="A:B",
                        help="write only replayed frames A..B-1 (half-open; the simulation still starts at frame 0)")
    replay.add_argument("--metrics", action="store_true", help="add the metrics block to every replayed frame")
    replay.add_argument("--fields", metavar="DIR",
                        help="also write each frame's decoded fields as DIR/<seed>-<frame>-{aact,uact,lapA,divU}.npy "
                             "(float32, H x W; those that drove the frame's last step)")
    replay.add_argument("--verify", action="store_true",
                        help="replay twice in this process; exit 1 if the two differ in any bit (prints the RMSE)")
    replay.add_argument("--kernel", choices=["fast", "reference"], default="fast",
                        help="lattice step kernel ('reference' for parity audits)")
    gains = parser.add_argument_group("modulator gains", "How the decoded fields act on each lattice step (docs/lattice.md §6); defaults: the original UI's.")
    gain_defaults = Gains()
    for flag, dest, text in GAIN_FLAGS:
        value = getattr(gain_defaults, dest)
        gains.add_argument(flag, dest=dest, type=base.finite_float, default=value, metavar="X",
                           help=f"{text} (default {value:g})")
    consts = parser.add_argument_group("delta decoder constants")
    defaults = DecoderConstants()
    for flag, dest, text in CONSTANT_FLAGS:
        value = getattr(defaults, dest)
        consts.add_argument(flag, dest=dest, type=base.finite_float, default=value, metavar="K",
                            help=f"{text} (default {value:g})")
    edits = parser.add_argument_group("edit application (as pat-apply)")
    edits.add_argument("--bounds", metavar="FILE", help="delta bounds file (default: the bounds of docs/editing.md §1)")
    edits.add_argument("--clip", action="store_true", help="clip out-of-bound deltas instead of failing")
    edits.add_argument("--lenient", action="store_true", help="skip DPats whose patchId is not in the frame")
    out = parser.add_argument_group("output")
    base.add_format(out)
    base.add_validation(parser)
    base.add_verbosity(parser)
    return parser


def _options(options: argparse.Namespace):
    from pattools.replay.driver import ReplayOptions
    from pattools.replay.settings import CONSTANT_NAMES, GAIN_NAMES, DecoderConstants, Gains

    return ReplayOptions(
        decoder=options.decoder,
        gains=Gains(**{name: getattr(options, name) for name in GAIN_NAMES}),
        constants=DecoderConstants(**{name: getattr(options, name) for name in CONSTANT_NAMES}),
        frames=options.frames,
        metrics=options.metrics,
        kernel=options.kernel,
        validate=options.validate,
    )


def _edit_options(options: argparse.Namespace):
    from pattools.cli.documents import read_bounds
    from pattools.edit.bounds import Bounds
    from pattools.edited_replay import EditOptions

    bounds = read_bounds(options.bounds) if options.bounds else Bounds.default()
    return EditOptions(bounds=bounds, clip=options.clip, lenient=options.lenient)


def _read_edits(options: argparse.Namespace) -> list:
    from pattools.edit.applier import edit_packages
    from pattools.io import read_records

    from pattools.io.nonempty import require_records

    records = (record for name in options.edit for record in require_records(
        read_records([name], validate=options.validate, max_record_bytes=options.max_record_bytes),
        [name], "PAT_EDIT records"))
    return list(edit_packages(records, validate=False))


def run(options: argparse.Namespace, streams: base.Streams) -> int:
    from pattools.io import RecordWriter, read_records
    from pattools.edited_replay import load_edits, replay_frames, replay_pairs
    from pattools.io.nonempty import require_records

    write_fields = None
    if options.fields:
        from pattools.io.field_files import write_fields
        from pattools.io.paths import check_output_directory

        check_output_directory(options.fields, "--fields")
    settings = _options(options)
    packages = _read_edits(options) if options.edit else []
    edit_settings = _edit_options(options) if packages else None
    base.settle_long_lived(streams)  # the loaded edits and modules live all run: keep the collector off them
    writer = RecordWriter(streams.stdout, base.output_format(options, streams))
    # Frames are schema-checked by the replay itself: the parts it reads (see Replayer).
    # Tokens are read only where a frame's replay reads them (Record.tokens).
    records = ((r.value, r.input, r.index, r.tokens) for r in require_records(read_records(
        options.inputs, validate=False, max_record_bytes=options.max_record_bytes, stdin=streams.stdin,
        shards=base.shard_reading(options, streams, NAME), columns=True), options.inputs, "PAT_FRAME records"))
    if not options.verify:
        written = 0
        for out in replay_frames(records, settings, load_edits(packages, edit_settings), lenient=options.lenient):
            if options.fields:
                write_fields(options.fields, out.seed, out.frame, out.field_arrays())
            writer.write_frame(out.envelope, out.tokens)
            written += 1
        base.report(streams, f"{base.plural(written, 'frame')} replayed ({options.decoder} decoder)", written,
                    "frames")
        return base.EXIT_OK
    from pattools.replay.verify import VerifyTally

    tally = VerifyTally()
    pairs = replay_pairs(records, settings, load_edits(packages, edit_settings), load_edits(packages, edit_settings),
                         lenient=options.lenient)
    for first, second in pairs:
        data = writer.encode_frame(first.envelope, first.tokens)
        tally.add(first.seed, first.frame, data, writer.encode_frame(second.envelope, second.tokens), first.tokens,
                  second.tokens)
        if options.fields:
            write_fields(options.fields, first.seed, first.frame, first.field_arrays())
        writer.write_encoded(data)
    streams.stdout.flush()
    if tally.identical:
        base.warn(streams, NAME, f"verify: two replays of {tally.records} frames are bit-identical "
                                 f"(RMSE {tally.rmse:g})", options)
        return base.EXIT_OK
    seed, frame = tally.first_difference
    streams.stderr.write(f"{NAME}: verify: the two replays differ in {tally.differing} of {tally.records} frames "
                         f"(first: seed {seed}, frame {frame}); RMSE {tally.rmse:.6g}\n")
    return base.EXIT_DATA


main = base.entry_point(NAME, build_parser, run)

if __name__ == "__main__":
    main()
