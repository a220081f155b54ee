"""How shard data is read (checksums, ``--assume`` values, notices): the settings every
record reader carries, apart from the shard reader itself, which loads only where a
shard is met (pattools.io.shard_reader)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class ShardReading:
    """How shard data is read: checksums verified or not, values assumed where the data
    does not record them (``--assume``), and where one-line notices go."""

    verify: bool = True
    assume: dict = field(default_factory=dict)
    notice: Callable[[str], None] | None = None
    _said: set = field(default_factory=set, repr=False)

    def say_once(self, key: str, message: str) -> None:
        if self.notice is not None and key not in self._said:
            self._said.add(key)
            self.notice(message)
