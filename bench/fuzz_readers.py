"""Feed mutated inputs to the record readers; report crashes, hangs and memory peaks.

Seeds: PAT_FRAME (with and without metrics), PAT_EDIT, NUPCA_OBS and NUPCA_STATE records,
each in CBOR and in JSONL. Mutations: bit flips, byte overwrites, truncations, splices of
two seeds, inserted and deleted runs, type swaps (a decoded value replaced by another
type, re-encoded), huge declared lengths (CBOR heads claiming up to 2^63 bytes or items)
and deep nesting. Each input goes through every reader route a command uses (validated,
unvalidated, lazy token columns as pat-replay reads them, and the NUPCA state and
observation decoders). The only acceptable outcome besides success is a DataError; every
other exception is a crash, an input taking more than --hang seconds is a hang.

    python bench/fuzz_readers.py --inputs 1000000           # the acceptance run (~minutes)
    python bench/fuzz_readers.py --inputs 20000 --seed 3
"""

from __future__ import annotations

import argparse
import io
import random
import resource
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pattools.errors import DataError  # noqa: E402

MAX_RECORD_BYTES = 1 << 20


def seed_records() -> list[dict]:
    """One record of each kind the readers see, small enough to mutate quickly."""
    from pattools import exporting
    from pattools.io import cbor
    from pattools.nupca import codec, runner

    config = exporting.ExportConfig(W=32, H=32, frames=2, scale=16, metrics=True)
    frames = [record for _frame, record in exporting.frame_records(config, 5)]
    plain = dict(frames[0])
    plain.pop("metrics")
    edit = {
        "kind": "PAT_EDIT", "version": 1, "id": "fuzz", "prompt": "increase coherence on rim", "seed": 5,
        "sim": frames[0]["sim"], "intents": [], "repro": {"dt": 0.03, "stepsPerFrame": 1, "scale": 16, "noiseSeed": 0},
        "targets": [{"frame": 1, "dpat": [{"patchId": "16,0,16", "stats": {"rho": 0.1},
                                           "code": {"rvqDelta": [1, 0, 0, 0, -1]}}]}],
    }
    state = runner.new_state(8, 2)
    state_record = cbor.decode_one(runner.state_record_bytes(state, "cbor"))
    obs = {"kind": "NUPCA_OBS", "version": 1, "x_partial": {"dims": [0, 3, 5], "values": [0.5, -1.0, 2.0]}}
    return [frames[1], plain, edit, state_record, obs]


def encodings(records: list[dict]) -> list[bytes]:
    from pattools.io import cbor, jsonl

    out = []
    for record in records:
        out.append(cbor.encode(record))
        out.append(jsonl.encode_line(record))
    out.append(b"".join(cbor.encode(r) for r in records))  # a stream of several kinds
    return out


ROUTES = ((True, False), (False, False), (True, True), (False, True))  # (validate, token scanner)


@contextmanager
def token_scanner(on: bool) -> Iterator[None]:
    """With ``on``, a reader asked for ``columns`` uses the token scanner
    (pattools.io.lazy_tokens) on streams of any size, not only on large ones."""
    from pattools.io import records

    saved = records.SMALL_STREAM_BYTES
    records.SMALL_STREAM_BYTES = 0 if on else saved
    try:
        yield
    finally:
        records.SMALL_STREAM_BYTES = saved


def read_route(data: bytes, validate: bool, lazy: bool) -> None:
    """One reader route over ``data`` as a command takes it; raises what it raises."""
    from pattools.io import read_records
    from pattools.nupca import codec

    with token_scanner(lazy):
        records = list(read_records(["-"], validate=validate, max_record_bytes=MAX_RECORD_BYTES,
                                    stdin=io.BytesIO(data), columns=lazy))
    for record in records:
        if record.tokens is not None:
            record.tokens.frame()
        if validate and record.value.get("kind") == "NUPCA_STATE":
            codec.state_from_record(record.value)
        elif validate and record.value.get("kind") == "NUPCA_OBS":
            codec.observation_from_record(record.value, 8)


def read_all(data: bytes) -> list[str]:
    """Every route over ``data``: the outcome of each ("ok", "data error", or "memory": a
    MemoryError from sizes the input declares, which the commands' entry wrapper reports
    as one line and exit 1); other exceptions propagate."""
    outcomes = []
    for validate, lazy in ROUTES:
        try:
            read_route(data, validate, lazy)
            outcomes.append("ok")
        except DataError:
            outcomes.append("data error")
        except MemoryError:
            outcomes.append("memory")
    return outcomes


# --- mutations ---------------------------------------------------------------------------

def flip_bits(rng: random.Random, data: bytes, _seeds: list[bytes]) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 4, 8))):
        i = rng.randrange(len(buf))
        buf[i] ^= 1 << rng.randrange(8)
    return bytes(buf)


def overwrite(rng: random.Random, data: bytes, _seeds: list[bytes]) -> bytes:
    buf = bytearray(data)
    i = rng.randrange(len(buf))
    buf[i] = rng.choice((0x00, 0xFF, 0x7F, 0x80, 0x1B, 0x3B, 0x5B, 0x7B, 0x9B, 0xBB, 0xF9, 0xFB, 0xFF,
                         ord("{"), ord("}"), ord('"'), ord("["), ord(","), ord("0"), ord("\n"), rng.randrange(256)))
    return bytes(buf)


def truncate(rng: random.Random, data: bytes, _seeds: list[bytes]) -> bytes:
    return data[:rng.randrange(len(data))]


def splice(rng: random.Random, data: bytes, seeds: list[bytes]) -> bytes:
    other = rng.choice(seeds)
    return data[:rng.randrange(len(data))] + other[rng.randrange(len(other)):]


def insert_delete(rng: random.Random, data: bytes, _seeds: list[bytes]) -> bytes:
    i = rng.randrange(len(data))
    if rng.random() < 0.5:
        return data[:i] + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 16))) + data[i:]
    return data[:i] + data[i + rng.randrange(1, 16):]


def huge_length(rng: random.Random, data: bytes, _seeds: list[bytes]) -> bytes:
    """A CBOR head (byte/text string, array or map) claiming an enormous length."""
    major = rng.choice((0x40, 0x60, 0x80, 0xA0))
    size = rng.choice((2**31, 2**32 - 1, 2**62, 2**63 - 1, 10**12))
    head = bytes([major | 27]) + size.to_bytes(8, "big")
    i = rng.randrange(len(data))
    return data[:i] + head + data[i:]


def deep_nesting(rng: random.Random, data: bytes, _seeds: list[bytes]) -> bytes:
    depth = rng.choice((100, 1000, 5_000, 20_000))
    if data[:1] == b"{":
        return b'{"kind":' + b"[" * depth + b"]" * depth + b"}\n"
    return b"\xa1\x64kind" + b"\x81" * depth + b"\x00"


def type_swap(rng: random.Random, data: bytes, _seeds: list[bytes]) -> bytes:
    """Decode, replace one value somewhere by a value of another type, encode again."""
    from pattools.io import cbor, jsonl

    is_json = data[:1] == b"{"
    try:
        value = jsonl.decode_document(data, "seed") if is_json else cbor.decode_one(data)
    except Exception:  # noqa: BLE001 - multi-record seeds: mutate the bytes instead
        return flip_bits(rng, data, _seeds)
    slots = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key in node:
                slots.append((node, key))
                walk(node[key])
        elif isinstance(node, list):
            for index in range(len(node)):
                slots.append((node, index))
                walk(node[index])

    walk(value)
    if slots:
        container, key = rng.choice(slots)
        container[key] = rng.choice((None, True, -1, 2**40, 1.5, "abc", "", [], {}, [1, 2], {"x": 1},
                                     10**30, -(2**63)))
    try:
        return jsonl.encode_line(value) if is_json else cbor.encode(value)
    except Exception:  # noqa: BLE001 - e.g. an integer too large for CBOR's head
        return data


MUTATIONS: tuple[Callable[[random.Random, bytes, list[bytes]], bytes], ...] = (
    flip_bits, flip_bits, overwrite, truncate, splice, insert_delete, huge_length, deep_nesting, type_swap,
    type_swap,
)


def mutate(rng: random.Random, seeds: list[bytes]) -> bytes:
    data = rng.choice(seeds)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        if data:
            data = rng.choice(MUTATIONS)(rng, data, seeds)
    return data


# --- the run -----------------------------------------------------------------------------

def fuzz(inputs: int, *, seed: int = 0, hang_seconds: float = 1.0, log=None, stop=None) -> dict:
    """Read ``inputs`` mutated inputs (fewer if ``stop()`` turns true); the figures."""
    rng = random.Random(seed)
    seeds = encodings(seed_records())
    for data in seeds:  # compile or load every kernel the readers use before timing anything
        read_all(data)
    crashes: list[tuple[bytes, str]] = []
    hangs: list[tuple[bytes, float]] = []
    slowest = (0.0, b"")
    outcomes = {"ok": 0, "data error": 0, "memory": 0}
    start = time.monotonic()
    done = 0
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    growth: list[tuple[int, bytes]] = []  # (KiB the peak RSS grew by, input), largest first
    for count in range(inputs):
        if stop is not None and stop():
            break
        done += 1
        data = mutate(rng, seeds)
        began = time.perf_counter()
        try:
            for outcome in read_all(data):
                outcomes[outcome] += 1
        except Exception:  # noqa: BLE001 - what the fuzzer is looking for
            crashes.append((data, traceback.format_exc(limit=4)))
            if log:
                log(f"crash {len(crashes)}: {data[:60]!r}\n{crashes[-1][1]}")
        took = time.perf_counter() - began
        if took > slowest[0]:
            slowest = (took, data)
        if took > hang_seconds:
            hangs.append((data, took))
        now_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if now_kib - peak_kib > 16 * 1024:  # an input that raised the peak by more than 16 MiB
            growth.append((now_kib - peak_kib, data))
            growth.sort(key=lambda item: -item[0])
            del growth[5:]
            if log:
                log(f"input {count} raised the peak RSS by {(now_kib - peak_kib) / 1024:.0f} MiB: {data[:60]!r}")
        peak_kib = now_kib
        if log and count and count % 10_000 == 0:
            log(f"{count} inputs, {time.monotonic() - start:.0f} s, {len(crashes)} crashes, {len(hangs)} hangs, "
                f"slowest {slowest[0] * 1000:.0f} ms")
    return {
        "inputs": done, "seconds": time.monotonic() - start, "outcomes": outcomes, "crashes": crashes,
        "hangs": hangs, "slowest": slowest, "growth": growth,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hang", type=float, default=1.0, help="seconds that count as a hang (default 1)")
    parser.add_argument("--save", metavar="DIR", help="write crashing and hanging inputs here")
    options = parser.parse_args()
    import signal

    stopped = []
    signal.signal(signal.SIGINT, lambda *_: stopped.append(True))  # Ctrl-C: report what was done
    result = fuzz(options.inputs, seed=options.seed, hang_seconds=options.hang,
                  log=lambda line: print(line, file=sys.stderr, flush=True), stop=lambda: bool(stopped))
    took, data = result["slowest"]
    print(f"inputs {result['inputs']}, {result['seconds']:.1f} s "
          f"({result['inputs'] / result['seconds']:,.0f}/s); reads ({len(ROUTES)} routes each): ok "
          f"{result['outcomes']['ok']}, data errors {result['outcomes']['data error']}, out of memory "
          f"{result['outcomes']['memory']}; crashes {len(result['crashes'])}, "
          f"hangs (> {options.hang:g} s) {len(result['hangs'])}; slowest input {took * 1000:.1f} ms "
          f"({len(data)} bytes); peak RSS {result['peak_rss_mib']:.0f} MiB")
    for data, text in result["crashes"][:5]:
        print(f"--- crash on {data[:80]!r}\n{text}")
    if options.save:
        folder = Path(options.save)
        folder.mkdir(parents=True, exist_ok=True)
        for i, (data, _) in enumerate(result["crashes"] + [(d, "") for d, _ in result["hangs"]]):
            (folder / f"input-{i:04d}.bin").write_bytes(data)
        for i, (_kib, data) in enumerate(result["growth"]):
            (folder / f"memory-{i:04d}.bin").write_bytes(data)
    return 1 if result["crashes"] or result["hangs"] else 0


if __name__ == "__main__":
    sys.exit(main())
