"""A short fuzz run of the record readers (bench/fuzz_readers.py runs >= 1,000,000 inputs).

Every mutated input must read fine or fail with a DataError (exit 1, one line), through
every reader route a command uses; nothing else may escape, and nothing may take long.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench import fuzz_readers
from pattools.errors import DataError
from pattools.kernels.compile_events import on_compile_start
from pattools.io import read_records


@pytest.fixture(scope="module")
def seeds() -> list[bytes]:
    data = fuzz_readers.encodings(fuzz_readers.seed_records())
    for item in data:
        assert fuzz_readers.read_all(item) == ["ok"] * len(fuzz_readers.ROUTES)
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rng=st.randoms(use_true_random=False))
def test_mutated_inputs_read_or_fail_with_a_data_error(seeds, rng):
    data = fuzz_readers.mutate(rng, seeds)
    compiled = len(_COMPILES)
    began = time.perf_counter()
    fuzz_readers.read_all(data)  # raises anything but a DataError: the test fails with it
    took = time.perf_counter() - began
    if len(_COMPILES) == compiled:  # numba compiling a kernel for the first time (a fresh checkout) is not the reader's time
        assert took < 1.0


_COMPILES: list[None] = []
on_compile_start(lambda: _COMPILES.append(None))


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=200))
def test_random_bytes_read_or_fail_with_a_data_error(data):
    fuzz_readers.read_all(data)


@pytest.mark.parametrize("head", [b"\x7b", b"\x5b", b"\x9b", b"\xbb"])
def test_huge_declared_length_is_a_data_error_not_a_crash(head):
    """Found by the fuzzer: a length near 2^63 overflowed the scan kernel's position (a segfault)."""
    data = b"\xa3\x64kind\x69NUPCA_OBS\x61x" + head + b"\x7f" + b"\xff" * 7 + b"\x67version\x01"
    for lazy in (True, False):
        with pytest.raises(DataError), fuzz_readers.token_scanner(lazy):
            list(read_records(["-"], stdin=__import__("io").BytesIO(data), columns=lazy))


def test_found_byte_string_key_in_a_state_config_is_a_data_error(seeds):
    """Found by the fuzzer: a CBOR byte-string key in NUPCA_STATE.config broke the key sort."""
    from pattools.io import cbor
    from pattools.nupca import codec

    state = cbor.decode_one(seeds[6])
    state["config"][b"D"] = 1
    with pytest.raises(DataError, match="unknown key"):
        codec.state_from_record(state)


def test_found_huge_grid_is_a_data_error_not_an_allocation(seeds):
    """Found by the fuzzer: a sim.W of 2^40 made the token layout check allocate the patch ids."""
    from pattools.io import cbor

    frame = cbor.decode_one(seeds[0])
    frame["sim"]["W"] = 2**40
    with pytest.raises(DataError, match="tokens"):
        list(read_records(["-"], stdin=__import__("io").BytesIO(cbor.encode(frame))))
