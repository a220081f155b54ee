"""Frame encoding figures (in process): canonical CBOR of one exported PAT_FRAME record.

For exported frames (lattice after one step, --metrics) at 96x96, 256x256 and 1024x1024,
scale 32, and 256x256 scale 8, best-of-N microseconds per frame of:
- plain:   cbor.encode(record) with tokens from TokenFrame.to_tokens() (the old path),
- to_tokens alone (the dict building inside "plain"),
- fast:    token_cbor.encode_frame_record(envelope, tokens) (same bytes, checked here),
- tokens:  token_cbor.encode_tokens(tokens) alone (the rest of "fast" is cbor2 on the
           envelope: sim, metrics with its patchDefects list),
- kernel:  the write_tokens call alone,
- jsonl:   token_cbor.encode_frame(..., "jsonl") (orjson; for comparison).
Then pat-export's per-frame cost in process (lattice step, tokens and encoding; 96x96 and
256x256, scale 32, no metrics): the old loop (frame_records + cbor.encode) against
export_seed_stream, interleaved, best of 5, as wall time and as process CPU time (less
disturbed by other processes than whole-process wall timings on a shared machine).
Last, the new kernel's compile time (empty numba cache) and load time (warm cache), each
measured in a fresh process.

Run: .venv/bin/python bench/bench_token_cbor.py [--quick]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import ROOT, env  # noqa: E402

CASES = ((96, 32), (256, 32), (256, 8), (1024, 32))


def best_us(fn, budget: float = 0.5, least: int = 5) -> float:
    best = float("inf")
    runs = 0
    start = time.perf_counter()
    while runs < least or time.perf_counter() - start < budget:
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
        runs += 1
    return best * 1e6


def exported_frame(side: int, scale: int):
    from pattools.exporting import ExportConfig, frame_columns

    config = ExportConfig(W=side, H=side, frames=1, scale=scale, metrics=True)
    _frame, envelope, tokens = next(frame_columns(config, 1234))
    return envelope, tokens


def in_process(cases=CASES) -> None:
    import io

    from pattools.io import RecordWriter, cbor
    from pattools.io.token_cbor import encode_frame_record, encode_tokens, record_with_tokens

    jsonl = RecordWriter(io.BytesIO(), "jsonl")

    print("grid       scale tokens   plain µs  to_tokens µs   fast µs  speed-up  tokens µs  kernel µs   jsonl µs")
    for side, scale in cases:
        envelope, tokens = exported_frame(side, scale)
        plain = cbor.encode(record_with_tokens(envelope, tokens.to_tokens()))
        assert encode_frame_record(envelope, tokens) == plain
        t_plain = best_us(lambda: cbor.encode(record_with_tokens(envelope, tokens.to_tokens())))
        t_dicts = best_us(tokens.to_tokens)
        t_fast = best_us(lambda: encode_frame_record(envelope, tokens))
        t_tokens = best_us(lambda: encode_tokens(tokens))
        t_kernel = best_us(kernel_call(tokens))
        t_jsonl = best_us(lambda: jsonl.encode_frame(envelope, tokens))
        print(f"{side}x{side:<6} {scale:5d} {len(tokens):6d} {t_plain:10.1f} {t_dicts:13.1f} {t_fast:9.1f} "
              f"{t_plain / t_fast:8.1f}x {t_tokens:10.1f} {t_kernel:10.1f} {t_jsonl:10.1f}")


def kernel_call(tokens):
    """The write_tokens call of encode_tokens with its inputs prepared (exported layout)."""
    import numpy as np

    from pattools.io import token_cbor as tc
    from pattools.kernels.token_cbor import SLACK, write_tokens

    dims = tokens.rvq.shape[1]
    program = tc._program(False, dims)
    values = tc._float_matrix(tokens, False)
    ints = tc._int_matrix(tokens, dims)
    words, index = tc._TEXTS.get(tokens.patch_ids)
    out = np.empty(len(tokens) * (program.const_bytes + 9 * (program.floats + program.ints)) + 8 * len(words)
                   + SLACK, dtype=np.uint8)
    return lambda: write_tokens(program.ops, program.pool, values, values.view(np.int64), ints, words, index, out, 0)


def export_loops(cases=((96, 200), (256, 40)), rounds: int = 5) -> None:
    from pattools.exporting import ExportConfig, export_seed_stream, frame_records
    from pattools.io import cbor

    print("export loop, ms/frame   old wall   new wall    old CPU    new CPU")
    for side, frames in cases:
        config = ExportConfig(W=side, H=side, frames=frames, scale=32)

        def old() -> None:
            for _frame, record in frame_records(config, 1234):
                cbor.encode(record)

        def new() -> None:
            for _data in export_seed_stream(config, 1234, "cbor"):
                pass

        best = {"old": [float("inf")] * 2, "new": [float("inf")] * 2}
        for _ in range(rounds):
            for name, fn in (("old", old), ("new", new)):
                wall, cpu = time.perf_counter(), time.process_time()
                fn()
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                best[name] = [min(best[name][0], wall), min(best[name][1], cpu)]
        ms = {name: [v / frames * 1000 for v in values] for name, values in best.items()}
        print(f"{side}x{side:<18} {ms['old'][0]:9.3f} {ms['new'][0]:10.3f} {ms['old'][1]:10.3f} {ms['new'][1]:10.3f}")


# numba's JIT is initialised first (any process that exports has loaded other kernels),
# so the figure is what this kernel adds.
LOAD = ("import time, numba; numba.njit(lambda x: x + 1)(1); t = time.perf_counter(); "
        "import pattools.kernels.token_cbor; print(time.perf_counter() - t)")


def kernel_load_seconds(cache_dir: str) -> float:
    e = env()
    e["NUMBA_CACHE_DIR"] = cache_dir
    out = subprocess.run([sys.executable, "-c", LOAD], capture_output=True, text=True,
                         env=e, cwd=ROOT, check=True).stdout
    return float(out.split()[-1])


def main() -> None:
    quick = "--quick" in sys.argv[1:]  # make bench: fewer grids and frames, no cold compile
    in_process(CASES[:2] if quick else CASES)
    export_loops(((96, 40), (256, 8)) if quick else ((96, 200), (256, 40)), rounds=2 if quick else 5)
    if quick:
        return
    with tempfile.TemporaryDirectory() as cache:
        cold = kernel_load_seconds(cache)
        warm = kernel_load_seconds(cache)
    print(f"write_tokens kernel (one signature): compile {cold:.2f} s with an empty cache, "
          f"{warm * 1000:.0f} ms to load from the cache (numba already initialised)")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
