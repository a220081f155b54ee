"""A PAT_FRAME's tokens as one object past the reader: ``FrameTokens``.

The reader keeps the tokens the way the input gave them (the token array's CBOR bytes, or
decoded maps) and they are read on demand. Past ``io`` they are read one way only:
``frame()``, validated columns (a TokenFrame holds every schema-valid token array,
codes of any lengths included). ``maps()`` (the maps as written) serves ``io`` itself and
the commands that write a document as read (``Record.document()``). Which faster way to
the columns applies (the columnar check of maps, pattools.io.token_columns, or reading
the columns straight from the bytes) is decided here; when neither takes the tokens, they
are validated with the schema and converted (``TokenFrame.from_tokens``), so callers
never see a "not this way" answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pattools.errors import DataError

if TYPE_CHECKING:
    from pattools.tokens.frame import TokenFrame

# Stand-ins for the envelope when only the tokens are checked against PAT_FRAME's schema
_STUB = {"kind": "PAT_FRAME", "version": 1, "seed": 0, "frame": 0, "sim": None}
_TRUSTED = ("version", "seed", "frame", "sim")


class FrameTokens:
    """One frame's tokens: ``frame()`` (checked columns), ``maps()`` (io and documents), ``len()``.

    ``screen``: ``maps`` may hold NaN or ±Inf, which reading them reports (as decoding the
    bytes does): a replay that never reads a frame's tokens does not fail on them. Errors
    name the input and record index the tokens were read from, with the field path under
    ``tokens``.
    """

    __slots__ = ("_data", "_maps", "_frame", "_is_exact", "_checked", "_screen", "_input", "_index")

    def __init__(self, *, data: bytes | None = None, maps: object = None, frame: TokenFrame | None = None,
                 checked: bool = False, screen: bool = False, input: str | None = None,
                 index: int | None = None) -> None:
        self._data = data  # the token array's CBOR bytes, while the maps are not decoded
        self._maps = maps
        self._frame = frame
        self._is_exact: bool | None = None if frame is None else True
        self._checked = checked or frame is not None
        self._screen = screen
        self._input = input
        self._index = index

    def __len__(self) -> int:
        if self._frame is not None:
            return len(self._frame)
        if self._maps is None and self._data is not None:  # the array's head says, without decoding
            from pattools.io.token_columns import _array_head

            count, _ = _array_head(self._data)
            if count >= 0:
                return count
        maps = self.maps()
        return len(maps) if isinstance(maps, list) else 0

    def maps(self) -> object:
        """The token array as written (validated when the reader validates)."""
        if self._maps is None and self._data is not None:
            self._maps = self._located(self._decode)
        elif self._maps is None and self._frame is not None:  # made in memory from columns
            self._maps = self._frame.to_tokens()
        elif self._screen:
            from pattools.io.lazy_tokens import check_finite_tokens

            self._located(lambda: check_finite_tokens(self._maps))
            self._screen = False
        return self._maps

    def frame(self) -> TokenFrame:
        """The tokens as columns, validated (a DataError only for invalid tokens, never
        for their shape)."""
        if self._frame is None and not self._exact():
            self._frame = self._located(self._slow_frame)
        return self._frame

    def _exact(self) -> bool:
        """Whether the tokens have the common shape pattools writes (io-internal): then
        the columns were read the fast way, every value checked, and ``frame()`` encodes
        back to exactly the bytes ``maps()`` encode to."""
        if self._is_exact is None:
            self._frame = self._fast_frame()
            self._is_exact = self._frame is not None
            self._checked = self._checked or self._is_exact
            self._screen = self._screen and not self._is_exact  # the columnar check found every float finite
        return self._is_exact

    def mark_valid(self) -> None:
        """The reader has validated them (with the whole record)."""
        self._checked = True

    def _fast_frame(self) -> TokenFrame | None:
        from pattools.io.token_columns import checked_columns, columns_from_bytes

        if self._maps is None and self._data is not None:
            return columns_from_bytes(self._data)
        return checked_columns(self._maps)

    def _slow_frame(self) -> TokenFrame:
        from pattools.tokens.frame import TokenFrame

        self._validate()
        try:
            return TokenFrame.from_tokens(self.maps())
        except OverflowError:  # a JSON integer beyond the float range, in a number field
            raise DataError("expected a finite number, got an integer too large for a float",
                            path="tokens") from None

    def _validate(self) -> None:
        if not self._checked:
            from pattools import schema

            schema.validate({**_STUB, "tokens": self.maps()}, check_finite=False, trusted=_TRUSTED)
            self._checked = True

    def _decode(self) -> list:
        from pattools.io.lazy_tokens import decode_tokens

        return decode_tokens(self._data)

    def _located(self, read):
        try:
            return read()
        except DataError as error:
            raise error.located(input=self._input, record=self._index) from None
