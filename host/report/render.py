"""The report record as one self-contained HTML file: inline CSS and JS, the data as JSON.

Nothing is fetched: no CDN, no font, no image; the file works from ``file://``
offline. The tables (stages, QC, corrections) are HTML made here, every
string escaped with :func:`html.escape`; the timeline and the cue lists are
drawn by ``report.js`` from the record, embedded as JSON in a
``<script type="application/json">`` with ``<``, ``>`` and ``&`` written as
``\\u003c`` ... so no text in it can close the script element. The script
puts every string on the page with ``textContent`` or the canvas, never as
HTML. Values of secret-looking environment variables are masked in the whole
file (shared/log.py), so a token never lands in a report.
"""

from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path
from typing import Any

from shared.log import mask_secrets

HERE = Path(__file__).resolve().parent


def _json_for_script(record: dict[str, Any]) -> str:
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _seconds(value: Any, digits: int = 1) -> str:
    if not isinstance(value, (int, float)):
        return "–"
    return f"{value:.2f}" if digits == 1 and value < 10 else f"{value:.{digits}f}"


def _clock(seconds: float) -> str:
    ms = max(0, round(seconds * 1000))
    h, m, s = ms // 3_600_000, ms // 60_000 % 60, ms % 60_000 / 1000
    return f"{h}:{m:02d}:{s:06.3f}" if h else f"{m}:{s:06.3f}"


def _stage_rows(stages: list[dict[str, Any]]) -> str:
    rows = []
    for s in stages:
        status = str(s["status"])
        model = ", ".join(f"{k}={v}" for k, v in s["model"].items() if k != "path")
        path = s["model"].get("path", "")
        extra = "".join(f'<div class="note">{_e(n)}</div>' for n in s["notes"])
        if s["error"]:
            extra += f'<div class="error">{_e(s["error"])}</div>'
        if s["reasons"] and status == "ran" and s["reasons"] != ["never completed"]:
            extra += f'<div class="note">ran because: {_e("; ".join(s["reasons"]))}</div>'
        css = "failed" if status.startswith("failed") else ""
        rows.append(
            f'<tr class="{css}"><td>{_e(s["stage"])}</td>'
            f'<td class="status-{re.sub(r"[^a-z]+", "-", status.split(" (")[0])}">{_e(status)}</td>'
            f'<td class="num">{_seconds(s["wall_s"])}</td><td class="num">{_seconds(s["cpu_s"])}</td>'
            f'<td class="num">{_seconds(s["peak_rss_mb"], 0)}</td>'
            f'<td class="model" title="{_e(path)}">{_e(model)}{extra}</td></tr>')
    return ("<table id=\"stages\"><tr><th>stage</th><th>status</th><th class=\"num\">wall s</th>"
            "<th class=\"num\">CPU s</th><th class=\"num\">peak MB</th><th>model, notes</th></tr>"
            + "".join(rows) + "</table>")


def _qc_list(violations: list[dict[str, Any]]) -> str:
    if not violations:
        return '<p id="qc-none">no cue breaks a layout rule</p>'
    items = []
    for number, v in enumerate(violations, 1):
        link = (f'<a href="#qc-{number}" data-qc="{number}" data-jump="1" data-track="{_e(v["track"])}" data-cue="{int(v["cue"])}" '
                f'data-start="{int(v["start_ms"])}" data-end="{int(v["end_ms"])}">'
                f'{_e(v["language"])} cue {int(v["cue"])} at {_clock(v["start_ms"] / 1000)}</a>')
        limit = f'{_e(v["measured"])} (limit {_e(v["limit"])})'
        note = f', {_e(v["note"])}' if v["note"] else ""
        items.append(f'<li>{link}: <span class="rule">{_e(v["rule"])}</span> {limit}{note}'
                     f'<div class="cuetext">{_e(v["text"])}</div></li>')
    return f'<ol class="qc" id="qc">{"".join(items)}</ol>'


def _time_link(start_s: float, end_s: float, label: str) -> str:
    return (f'<a href="#timeline" class="jump" data-jump="1" data-track="" data-cue="0" data-label="{_e(label)}" '
            f'data-start="{round(start_s * 1000)}" data-end="{round(end_s * 1000)}">{_clock(start_s)}</a>')


def _corrections(record: dict[str, Any] | None, removals: list[dict[str, Any]]) -> str:
    parts = []
    if record is None:
        parts.append("<p>post-ner did not run</p>")
    else:
        rows = ""
        for c in record["corrections"]:
            heard, corrected = str(c.get("original", "")), str(c.get("corrected", ""))
            rows += (f'<tr><td>{_time_link(c["start_s"], c["end_s"], f"{heard} -> {corrected}")}</td><td>{_e(heard)}</td>'
                     f'<td>{_e(corrected)}</td><td>{_e(c.get("rule", ""))}</td><td class="num">{_e(c.get("score", ""))}</td></tr>')
        parts.append(f'<table id="corrections"><tr><th>at</th><th>heard</th><th>corrected to</th><th>rule</th>'
                     f'<th class="num">score</th></tr>{rows}</table>' if rows else "<p>post-ner corrected no name</p>")
        if record["near_misses"]:
            near = ", ".join(f'{_e(c.get("original", ""))} ≈ {_e(c.get("candidate", ""))} ({_e(c.get("score", ""))})'
                             for c in record["near_misses"])
            parts.append(f'<p class="note">near misses (left as heard): {near}</p>')
    if removals:
        rows = "".join(f'<tr><td>{_time_link(r["start_s"], r["end_s"], r["text"])}</td><td>{_e(r["text"])}</td>'
                       f'<td>{_e(r["reason"])}</td></tr>' for r in removals)
        parts.append(f'<h3>removed by asr as hallucinations</h3><table id="removals"><tr><th>at</th><th>text</th>'
                     f'<th>why</th></tr>{rows}</table>')
    return "".join(parts)


def render(record: dict[str, Any]) -> str:
    """The whole HTML page of a report record (host/report/collect.py)."""
    job = record["job"]
    meta = [f'<span>input {_e(job.get("input_name") or job.get("input", ""))}</span>']
    if job.get("duration_s") is not None:
        meta.append(f'<span>duration {_clock(float(job["duration_s"]))}</span>')
    if job.get("wall_s") is not None:
        meta.append(f'<span>run {_seconds(job["wall_s"])} s</span>')
    meta.append(f'<span>report made {_e(record["generated_at"])}</span>')
    notes = "".join(f"<li>{_e(n)}</li>" for n in record["notes"])
    shots = "" if record.get("shots") is not None else " (no shots stage output)"
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>report: {_e(job["id"])}</title>
<style>{(HERE / "report.css").read_text(encoding="utf-8")}</style>
</head>
<body>
<h1>{_e(job["id"])}</h1>
<p class="meta">{"".join(meta)}</p>
<p class="meta">folder {_e(job.get("folder", ""))}</p>
{f'<ul class="notes" id="notes">{notes}</ul>' if notes else ""}
<h2>Timeline</h2>
<p class="note">wheel: zoom at the pointer; drag: pan; click a cue, a region or a mark for its details{_e(shots)}</p>
<div class="controls"><button id="zoom-in" type="button">zoom in</button><button id="zoom-out" type="button">zoom out</button>
<button id="zoom-fit" type="button">whole job</button><span class="view" id="view"></span></div>
<div id="timeline"><canvas id="timeline-canvas" height="200"></canvas></div>
<div id="details">click the timeline, a cue or a QC entry</div>
<h2>Stages</h2>
{_stage_rows(record["stages"])}
<h2>QC: cues that break a layout rule ({len(record["qc"])})</h2>
{_qc_list(record["qc"])}
<h2>Name corrections</h2>
{_corrections(record["corrections"], record["removals"])}
<h2>Subtitle tracks</h2>
<div id="cue-lists"></div>
<script type="application/json" id="report-data">{_json_for_script(record)}</script>
<script>{(HERE / "report.js").read_text(encoding="utf-8")}</script>
</body>
</html>
"""
    return mask_secrets(page)
