"""Streams: framing (CBOR sequence, JSONL), sniffing, readers/writers, shard directories, atomic writes.

Every byte pattools reads or writes passes through this package; nothing else imports
cbor2, json or orjson. Code outside ``io`` uses the names listed here, never the modules
behind them; the less common ones load on first use.
"""

from importlib import import_module

from pattools.io.records import DEFAULT_MAX_RECORD_BYTES, Record, read_records
from pattools.io.writer import RecordWriter

_LAZY = {
    "write_atomic": "pattools.io.atomic",
    "decode_document": "pattools.io.jsonl",
    "decode_line": "pattools.io.jsonl",
    "encode_line": "pattools.io.jsonl",
    "json_text": "pattools.io.jsonl",
    "warm_codec": "pattools.io.lazy_tokens",
    "typed_arrays_as_lists": "pattools.io.jsonl",
    "record_with_tokens": "pattools.io.token_cbor",
    "FrameTokens": "pattools.io.frame_tokens",
    "shard_stem": "pattools.io.shards",
    "shard_verifies": "pattools.io.shards",
    "write_shard": "pattools.io.shards",
    "prepare_export_directory": "pattools.io.shard_target",
    "read_file_bytes": "pattools.io.paths",
}

__all__ = ["DEFAULT_MAX_RECORD_BYTES", "Record", "RecordWriter", "read_records", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'pattools.io' has no attribute {name!r}")
