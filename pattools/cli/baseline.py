"""pat-baseline: turn edit prompts into ΔPAT edits without learning (heuristic, null, random)."""

from __future__ import annotations

import argparse

from pattools.cli import base
from pattools.cli.ranges import in_range, parse_range
from pattools.errors import DataError, UsageError
from pattools.io import RecordWriter, read_records
from pattools.io.nonempty import require_records

NAME = "pat-baseline"
SUMMARY = "Parse edit prompts into intents and emit one PAT_EDIT per (prompt, sequence) by nudging token fields."
EXAMPLES = (
    'pat-export --seeds 1 --frames 8 | pat-baseline --prompt "increase coherence on rim" > edit.cbor',
    'pat-baseline --prompts prompts.txt --editor random --random-seed 3 frames.cbor > edits.cbor',
    'pat-baseline --prompt "reduce entropy near Plane #1, flip chirality" --regions planes.json frames.cbor',
    'pat-baseline --explain "slightly increase coherence on rim and reduce entropy at patch 16,0"',
)
NOTES = """\
A prompt is a list of clauses separated by commas, semicolons or "and"; each clause is
  VERB [ARTICLE] FEATURE [PREPOSITION REGION] with magnitude words anywhere:
  verbs     increase raise boost strengthen more | decrease reduce lower weaken dampen
            less fewer remove | flip invert reverse
  features  coherence synchrony order (rho), entropy disorder turbulence (entropyRate),
            energy, gradient (gradPhi), curvature (kappa), phase (phi_gf), chirality
            handedness vortex defects (topo), arousal, valence (global), attention
            (attnMean), amplitude (A)
  regions   everywhere (default), rim/edge/border, centre/center/core, left/right/top/
            bottom half, top-left ... bottom-right, patch X,Y (pixel origin), names from
            --regions FILE (JSON {name: [patchId | "x,y" | {x,y,w,h}]}), near REGION
            (adds the 8-neighbour patches)
  magnitude slightly / a little / a bit (x0.5), strongly / a lot (x2), by X (explicit)
A clause that does not parse, or names a region the grid or regions file lacks, is a
data error quoting it (exit 1); --lenient skips it with a warning.

Heuristic editor: nudges the feature over its region on every target frame (rho alpha,
entropyRate beta, energy/A/attention/arousal/valence 0.1, gradPhi/kappa 0.2, phase
pi/16); coherence also moves entropyRate the other way by beta/2; rvqDelta +-1 where a
nudge crosses a code bin; flip sets topo deltas to -2*current, reducing vortices to
-current. Deltas on one token add up and are clipped to the bounds. null emits no
deltas; random emits the heuristic's deltas (same count, same magnitudes) on hashed
random tokens with hashed random signs (--random-seed). Edit ids are
<editor>-<seed>-<sha256(prompt)[:12]> unless --id or a prompt-file id is given.

Prompts files: one prompt per line (# comments), or JSON lines {prompt, id?, seed?,
frame?}: seed limits the prompt to that sequence, frame is its first target frame.
Memory: retains the target frames of one sequence at a time."""


def build_parser() -> argparse.ArgumentParser:
    parser = base.make_parser(NAME, SUMMARY, EXAMPLES, notes=NOTES)
    base.add_inputs(parser, help_text="PAT_FRAME stream(s), shard file or directory; '-' or nothing reads stdin")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--prompt", action="append", metavar="TEXT", help="an edit prompt (repeatable)")
    source.add_argument("--prompts", metavar="FILE", help="prompts file (text lines or JSON lines)")
    source.add_argument("--explain", metavar="PROMPT",
                        help="print the intents PROMPT parses to (one line each) and exit; reads no frames")
    parser.add_argument("--editor", choices=("heuristic", "null", "random"), default="heuristic",
                        help="which editor (default heuristic)")
    parser.add_argument("--frames", type=parse_range, metavar="A:B",
                        help="target frames A..B-1 (half-open; default all frames of the input)")
    parser.add_argument("--alpha", type=base.non_negative_float, default=0.1, metavar="A", help="coherence (rho) step (default 0.1)")
    parser.add_argument("--beta", type=base.non_negative_float, default=0.1, metavar="B", help="entropyRate step (default 0.1)")
    parser.add_argument("--step-scale", type=base.non_negative_float, default=1.0, metavar="S",
                        help="multiply every nudge by S (default 1; for reward-ordering studies)")
    parser.add_argument("--no-codes", dest="codes", action="store_false",
                        help="emit no rvqDelta (code) deltas")
    parser.add_argument("--no-topo", dest="topo", action="store_false",
                        help="emit no topo deltas (flip / reduce vortices become no-ops)")
    parser.add_argument("--random-seed", type=base.non_negative_int, default=0, metavar="N",
                        help="seed of the random editor (default 0)")
    parser.add_argument("--regions", metavar="FILE", help="named regions: JSON {name: [patchId | \"x,y\" | {x,y,w,h}]}")
    parser.add_argument("--bounds", metavar="FILE", help="bounds file overriding the default delta bounds")
    parser.add_argument("--id", metavar="ID", help="edit id to use instead of the derived one")
    parser.add_argument("--lenient", action="store_true",
                        help="skip clauses that do not parse or name a missing region (warn on stderr)")
    base.add_format(parser)
    base.add_validation(parser)
    base.add_verbosity(parser)
    return parser






def run(options: argparse.Namespace, streams: base.Streams) -> int:
    from pattools.cli.documents import read_bounds, read_prompts, read_regions
    from pattools.edit.editors import EditorSettings, baseline_edits
    from pattools.edit.prompt_grammar import parse_prompt
    from pattools.score.sequences import read_sequences

    regions = read_regions(options.regions) if options.regions else None
    if options.explain is not None:
        parsed = parse_prompt(options.explain, regions.names() if regions else None, lenient=options.lenient)
        _warn_skipped(parsed.skipped, options, streams)
        _warn_whole_grid_flip([intent.to_record() for intent in parsed.intents], options, streams)
        for intent in parsed.intents:
            streams.stdout.write((intent.describe() + "\n").encode("utf-8"))
        return base.EXIT_OK
    if options.prompts is not None:
        lines = read_prompts(options.prompts)
    else:
        from pattools.edit.prompt_lines import PromptLine

        lines = [PromptLine(text) for text in options.prompt]
    if options.id is not None and len(lines) > 1:
        raise UsageError("--id needs a single prompt (give ids in a JSON-lines prompts file)")
    settings = EditorSettings(
        alpha=options.alpha, beta=options.beta, step_scale=options.step_scale, codes=options.codes,
        topo=options.topo, random_seed=options.random_seed,
        bounds=read_bounds(options.bounds) if options.bounds else None,
    )
    records = require_records(read_records(options.inputs, validate=options.validate, stdin=streams.stdin,
                                           max_record_bytes=options.max_record_bytes,
                                           shards=base.shard_reading(options, streams, NAME)), options.inputs,
                              "PAT_FRAME records (pat-baseline edits frames; see --explain)")
    writer = RecordWriter(streams.stdout, base.output_format(options, streams))
    sequences = written = 0
    for seq in read_sequences(records, keep=lambda frame: in_range(frame, options.frames)):
        sequences += 1
        frames = list(zip(seq.frames, seq.tokens))
        for line in lines:
            if line.seed not in (None, seq.seed):
                continue
            try:
                edits, skipped = baseline_edits(options.editor, frames, seq.sim, seq.seed,
                                                [(line.prompt, options.id or line.id, line.frame)],
                                                settings, regions, options.lenient)
            except DataError as err:
                if err.path == "prompt" and options.prompts is not None:
                    err.located(input=options.prompts, record=line.line)
                raise
            _warn_skipped(skipped, options, streams)
            for edit in edits:
                _warn_whole_grid_flip(edit.intents or [], options, streams)
                writer.write(edit.to_record())
                written += 1
    base.report(streams, f"{base.plural(written, 'edit')} for {base.plural(sequences, 'sequence')} "
                         f"({options.editor} editor)", written, "edits")
    return base.EXIT_OK


def _warn_skipped(skipped: list, options: argparse.Namespace, streams: base.Streams) -> None:
    """One warning per skipped clause (not once per sequence)."""
    seen = options.__dict__.setdefault("_warned", set())
    for err in skipped:
        if err.message not in seen:
            seen.add(err.message)
            base.warn(streams, NAME, f"skipped {err.message}", options)


def _warn_whole_grid_flip(intents: list[dict], options: argparse.Namespace, streams: base.Streams) -> None:
    """Once per run: a flip of the whole grid is written, but no replay decoder steers it."""
    if options.__dict__.get("_warned_flip"):
        return
    for intent in intents:
        if intent["verb"] == "flip" and intent["region"] == "everywhere":
            options._warned_flip = True
            base.warn(streams, NAME, f"{intent['clause']!r} names no region: a flip of the whole grid does not "
                      "steer a replay (docs/replay.md); name one, e.g. 'flip chirality in center'", options)
            return


main = base.entry_point(NAME, build_parser, run)

if __name__ == "__main__":
    main()
