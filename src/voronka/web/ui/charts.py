"""ECharts options built from report rows (rendered by app.js; PNG export via the toolbox)."""

from __future__ import annotations

from typing import Any

from voronka.analytics.result import Result
from voronka.web.ui import i18n

WEEKDAYS = {
    "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    "ru": ["Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс"],
}


def revenue(result: Result, language: str) -> dict[str, Any]:
    """Revenue per bucket with the same bucket a year earlier."""
    rows = [r for r in result.rows if r["metric"] == "revenue" and r["key"] is None]
    t = lambda m: i18n.translate(language, m)  # noqa: E731
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"data": [t("Revenue"), t("Year ago")]},
        "grid": {"left": 70, "right": 20, "bottom": 40},
        "xAxis": {"type": "category", "data": [str(r["bucket"]) for r in rows]},
        "yAxis": {"type": "value"},
        "series": [
            {"name": t("Revenue"), "type": "line", "smooth": True, "areaStyle": {},
             "data": [r["value"] for r in rows]},
            {"name": t("Year ago"), "type": "line", "lineStyle": {"type": "dashed"},
             "data": [r["year_ago"] for r in rows]},
        ],
    }


def funnel(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "tooltip": {"trigger": "item"},
        "series": [{
            "type": "funnel", "sort": "none", "left": "10%", "width": "80%",
            "label": {"formatter": "{b}: {c}"},
            "data": [{"name": r["stage_name"], "value": r["entered"]} for r in rows],
        }],
    }


def bars(rows: list[dict[str, Any]], label: str, value: str, name: str) -> dict[str, Any]:
    return {
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 140, "right": 20, "bottom": 30},
        "xAxis": {"type": "value", "name": name},
        "yAxis": {"type": "category", "data": [str(r[label]) for r in rows], "inverse": True},
        "series": [{"type": "bar", "name": name,
                    "data": [None if r[value] is None else round(r[value], 1) for r in rows]}],
    }


def heatmap(rows: list[dict[str, Any]], value: str, language: str) -> dict[str, Any]:
    """Hour (x) × weekday (y) heat map; weekdays are 1 = Monday … 7 = Sunday."""
    data = [[r["hour"], r["weekday"] - 1, r[value] or 0] for r in rows]
    top = max((d[2] for d in data), default=0) or 1
    return {
        "tooltip": {"position": "top"},
        "grid": {"left": 50, "right": 20, "bottom": 70, "top": 10},
        "xAxis": {"type": "category", "data": [str(h) for h in range(24)], "splitArea": {"show": True}},
        "yAxis": {"type": "category", "data": WEEKDAYS[language], "inverse": True,
                  "splitArea": {"show": True}},
        "visualMap": {"min": 0, "max": top, "calculable": True, "orient": "horizontal",
                      "left": "center", "bottom": 0},
        "series": [{"type": "heatmap", "data": data, "label": {"show": False}}],
    }
