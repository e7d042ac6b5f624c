"""`{% api_key_usage_chart key as chart %}`: the key's last 30 days (integrations/usage.py)
drawn on the server as an SVG bar chart: per day a bar of lookups with the writes stacked on
it, and a refused-requests bar, on one scale, with the numbers also in a table. Three queries
and one cache round trip."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django import template

from integrations import usage
from integrations.models import ApiKey

register = template.Library()

WIDTH, HEIGHT = 360, 170
LEFT, RIGHT, TOP, BOTTOM = 28, 4, 8, 22
PLOT_WIDTH, PLOT_HEIGHT = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM


@dataclass(frozen=True)
class Bar:
    day: usage.Day
    x: float  # the lookups bar, the writes on top of it; the refused bar is beside it
    refused_x: float
    width: float
    lookups_y: float
    lookups_height: float
    writes_y: float
    writes_height: float
    refused_y: float
    refused_height: float


def _scale_top(largest: int) -> int:
    """A round top for the axis: 4, 5, 10, 20, 50, 100, ... at least `largest`."""
    if largest <= 4:
        return 4
    magnitude = 10 ** math.floor(math.log10(largest))
    for step in (1, 2, 5, 10):
        if largest <= step * magnitude:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def _height(value: int, top: int) -> float:
    return round(PLOT_HEIGHT * value / top, 2)


@register.simple_tag
def api_key_usage_chart(api_key: ApiKey) -> dict[str, Any]:
    days = usage.usage_days(api_key=api_key)
    top = _scale_top(max([1] + [max(day.lookups + day.writes, day.refused_total) for day in days]))
    slot = PLOT_WIDTH / len(days)
    width = round(slot * 0.4, 2)
    bottom = TOP + PLOT_HEIGHT
    bars = []
    for index, day in enumerate(days):
        x = round(LEFT + index * slot + slot * 0.1, 2)
        lookups, refused = _height(day.lookups, top), _height(day.refused_total, top)
        writes = round(_height(day.lookups + day.writes, top) - lookups, 2)
        bars.append(
            Bar(
                day=day,
                x=x,
                refused_x=round(x + width, 2),
                width=width,
                lookups_y=round(bottom - lookups, 2),
                lookups_height=lookups,
                writes_y=round(bottom - lookups - writes, 2),
                writes_height=writes,
                refused_y=round(bottom - refused, 2),
                refused_height=refused,
            )
        )
    # Day labels every week back from today, centred under their day.
    labels = [
        {"x": round(LEFT + index * slot + slot / 2, 2), "day": days[index].day, "anchor": "middle"}
        for index in range(len(days) - 1, -1, -7)
    ]
    labels[0].update(x=WIDTH - RIGHT, anchor="end")  # today's, at the right edge: not cut off
    grid = [
        {"y": round(bottom - _height(value, top), 2), "value": value}
        for value in (0, top // 2, top)
    ]
    return {
        "days": days,
        "bars": bars,
        "labels": labels,
        "grid": grid,
        "lookups": sum(day.lookups for day in days),
        "writes": sum(day.writes for day in days),
        "refused": sum(day.refused_total for day in days),
        "statuses": usage.REFUSED_STATUSES,
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "label_y": HEIGHT - 6,
    }
