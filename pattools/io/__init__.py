"""Streams: framing (CBOR sequence, JSONL), sniffing, readers/writers, shard directories, atomic writes.

Every byte pattools reads or writes passes through this package; nothing else imports
cbor2, json or orjson.
"""

from pattools.io.records import DEFAULT_MAX_RECORD_BYTES, Record, read_records
from pattools.io.writer import RecordWriter

__all__ = ["DEFAULT_MAX_RECORD_BYTES", "Record", "RecordWriter", "read_records"]
