"""The time-series picture: each intent's region mean, base against edited, over frames."""

from __future__ import annotations

from pattools.render.backend import new_figure
from pattools.render.effects import BASE_COLOUR, EDITED_COLOUR, EffectCase, series


def timeseries_figure(case: EffectCase, dpi: float):
    """One row per intent (or per drift feature): region mean per frame, base and edited,
    with the evaluation window shaded."""
    rows = series(case)
    s = dpi / 100.0
    width, row_h, top, bottom = int(640 * s), int(150 * s), int(44 * s), int(40 * s)
    height = top + bottom + row_h * len(rows)
    fig = new_figure(width, height, dpi)
    frames = case.edited.frames
    first, last = case.frames[0], case.frames[-1]
    for k, (title, feature, base, edited) in enumerate(rows):
        y = 1.0 - (top + (k + 1) * row_h) / height
        ax = fig.add_axes([70 * s / width, y + 22 * s / height, 1.0 - 160 * s / width, (row_h - 34 * s) / height])
        ax.axvspan(first - 0.5, last + 0.5, color="0.92", zorder=0, lw=0)
        ax.plot(frames, base, color=BASE_COLOUR, lw=1.6, marker="o", ms=3, label="base")
        ax.plot(frames, edited, color=EDITED_COLOUR, lw=1.6, marker="s", ms=3, ls="--", label="edited")
        ax.set_title(title, fontsize=9, pad=3, loc="left")
        ax.set_ylabel(f"mean {feature}", fontsize=8)
        ax.margins(x=0.02)
        ax.grid(True, color="0.85", lw=0.6)
        if k == 0:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
        if k == len(rows) - 1:
            ax.set_xlabel("frame (shaded: evaluation window)")
        else:
            ax.tick_params(labelbottom=False)
    fig.text(0.5, 1.0 - 0.5 * top / height, f"region means over frames · {case.label}", ha="center",
             va="center", fontsize=10)
    return fig
