"""The phase field over frames as one animated GIF or APNG per seed (Pillow, which
matplotlib depends on). Each animation frame is the phase picture of that frame.

GIF holds 256 colours: frames are mapped, without dithering, onto one fixed palette (the
cyclic colour map's 240 colours and 16 greys for the labels), so every run gives the
same bytes and the field's colours stay those of the colour map.
"""

from __future__ import annotations

import io

import numpy as np

from pattools.render import colours

ANIMATIONS = ("gif", "apng")
FRAME_MS = 100  # 10 frames per second


def _palette():
    from PIL import Image

    table = colours.colormap(colours.CYCLIC)(np.linspace(0.0, 1.0, 240), bytes=True)[:, :3]
    greys = np.repeat(np.linspace(0, 255, 16).round().astype(np.uint8)[:, None], 3, axis=1)
    palette = Image.new("P", (1, 1))
    palette.putpalette(np.concatenate([table, greys]).astype(np.uint8).ravel().tolist())
    return palette


class Animation:
    """Collects frames (figures drawn on Agg) and encodes them as an animation."""

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self.frames: list = []
        self._palette = _palette() if fmt == "gif" else None

    def add(self, rgb: np.ndarray) -> None:
        """One frame: the uint8 H × W × 3 pixels of a drawn figure."""
        from PIL import Image

        image = Image.fromarray(rgb, "RGB")
        if self._palette is not None:
            image = image.quantize(palette=self._palette, dither=Image.Dither.NONE)
        self.frames.append(image)

    def encode(self) -> bytes:
        buffer = io.BytesIO()
        first, rest = self.frames[0], self.frames[1:]
        if self.fmt == "gif":
            first.save(buffer, format="GIF", save_all=True, append_images=rest, duration=FRAME_MS, loop=0,
                       optimize=False, disposal=1)
        else:
            first.save(buffer, format="PNG", save_all=True, append_images=rest, duration=FRAME_MS, loop=0,
                       default_image=False, compress_level=6)
        return buffer.getvalue()
