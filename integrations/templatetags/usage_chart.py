"""`{% api_key_usage_chart key as chart %}`: the key's last 30 days (integrations/usage.py)
drawn on the server as an SVG bar chart: per day a lookups bar and a refused-requests bar, on
one scale (davinci/charts.py), with the numbers also in a table. Two queries and one cache
round trip."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template

from davinci import charts
from integrations import usage
from integrations.models import ApiKey

register = template.Library()


@dataclass(frozen=True)
class Bar:
    day: usage.Day
    x: float  # the lookups bar; the refused bar is beside it
    refused_x: float
    width: float
    lookups_y: float
    lookups_height: float
    refused_y: float
    refused_height: float


@register.simple_tag
def api_key_usage_chart(api_key: ApiKey) -> dict[str, Any]:
    days = usage.usage_days(api_key=api_key)
    chart = charts.bar_chart(
        [(day.lookups, day.refused_total) for day in days], [str(day.day) for day in days]
    )
    bars = [
        Bar(
            day=day,
            x=slot.bars[0].x,
            refused_x=slot.bars[1].x,
            width=slot.bars[0].width,
            lookups_y=slot.bars[0].y,
            lookups_height=slot.bars[0].height,
            refused_y=slot.bars[1].y,
            refused_height=slot.bars[1].height,
        )
        for day, slot in zip(days, chart.slots, strict=True)
    ]
    # Day labels every week back from today, centred under their day.
    labels = [
        {"x": chart.slots[index].centre, "day": days[index].day, "anchor": "middle"}
        for index in range(len(days) - 1, -1, -7)
    ]
    labels[0].update(x=chart.right, anchor="end")  # today's, at the right edge: not cut off
    return {
        "days": days,
        "bars": bars,
        "labels": labels,
        "grid": chart.grid,
        "lookups": sum(day.lookups for day in days),
        "refused": sum(day.refused_total for day in days),
        "statuses": usage.REFUSED_STATUSES,
        "width": chart.width,
        "height": chart.height,
        "left": chart.left,
        "right": chart.right,
        "label_y": chart.label_y,
    }
