"""Bar charts drawn on the server as SVG (no script, no CDN): the geometry every chart of the
portal shares. A chart is slots (a day, a month, an age bucket) of one or more series (bars
side by side) on one scale whose top is a round number. The templates draw the rectangles
this module places and print the same numbers in a table beside the picture."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT = 360, 170
LEFT, RIGHT, TOP, BOTTOM = 28, 4, 8, 22
PLOT_WIDTH, PLOT_HEIGHT = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
BASELINE = TOP + PLOT_HEIGHT


def scale_top(largest: int) -> int:
    """A round top for the axis: 4, 5, 10, 20, 50, 100, ... at least `largest`."""
    if largest <= 4:
        return 4
    magnitude = 10 ** math.floor(math.log10(largest))
    for step in (1, 2, 5, 10):
        if largest <= step * magnitude:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def bar_height(value: int, top: int) -> float:
    return round(PLOT_HEIGHT * value / top, 2)


@dataclass(frozen=True)
class Bar:
    """One rectangle: a series' value in one slot."""

    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Slot:
    label: str
    bars: list[Bar]
    centre: float


@dataclass(frozen=True)
class BarChart:
    slots: list[Slot]
    grid: list[dict]
    top: int
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    label_y: int = HEIGHT - 6


def bar_chart(values: Sequence[Sequence[int]], labels: Sequence[str]) -> BarChart:
    """Place `values` (per slot, one value per series) on one scale: slot n is labelled
    `labels[n]`; its bars share 80 % of the slot, side by side."""
    top = scale_top(max([1, *(value for slot in values for value in slot)]))
    slot_width = PLOT_WIDTH / max(len(values), 1)
    series = max((len(slot) for slot in values), default=1)
    width = round(slot_width * 0.8 / series, 2)
    slots = []
    for index, (slot_values, label) in enumerate(zip(values, labels, strict=True)):
        x = round(LEFT + index * slot_width + slot_width * 0.1, 2)
        bars = []
        for n, value in enumerate(slot_values):
            height = bar_height(value, top)
            bars.append(
                Bar(
                    value=value,
                    x=round(x + n * width, 2),
                    y=round(BASELINE - height, 2),
                    width=width,
                    height=height,
                )
            )
        slots.append(Slot(label, bars, round(LEFT + index * slot_width + slot_width / 2, 2)))
    grid = [
        {"y": round(BASELINE - bar_height(value, top), 2), "value": value}
        for value in (0, top // 2, top)
    ]
    return BarChart(slots=slots, grid=grid, top=top)
