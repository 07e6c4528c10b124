"""Rule checks on final cues, and the QC report (qc.json, and qc.csv for reviewers).

Each rule is named after the profile setting it enforces, and a violation
records the measured value, the limit and the cue (1-based index as in the
SRT file, times, text). ``min_gap_ms`` is reported on the later cue of the
pair. A cue that breaks nothing is not listed.

qc.csv holds the same violations in the column layout of Subtitle Edit's
Netflix quality check report (``LineNumber,TimeCode,Context,Comment``): the
cue number, its start as an SRT time code, its text on one line (`` / ``
between lines) and the problem in words; with translated tracks, each
comment opens with the track (``es translation: ``).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from shared.options import to_dict
from shared.options.subtitles import SubtitleOptions
from stages.subtitles.cues import Cue

if TYPE_CHECKING:
    from stages.subtitles.shots import ShotGrid

SCHEMA_VERSION = 1
RULES = ("max_chars_per_line", "max_lines", "max_chars_per_s", "min_duration_ms", "max_duration_ms", "min_gap_ms", "overlap",
         "shot_change_start", "shot_change_end")


@dataclass(frozen=True)
class Violation:
    rule: str
    measured: float | int | None  # None: not finite (text shown for no time)
    limit: float | int
    cue: int  # 1-based
    start_ms: int
    end_ms: int
    text: str
    note: str = ""


def check_cue(cue: Cue, number: int, options: SubtitleOptions, previous: Cue | None = None) -> list[Violation]:
    """Every rule ``cue`` (numbered ``number``, 1-based) breaks."""
    found: list[Violation] = []

    def add(rule: str, measured: Any, limit: Any, note: str = "") -> None:
        found.append(Violation(rule, measured, limit, number, cue.start_ms, cue.end_ms, cue.text, note))

    lines = cue.lines
    longest = max((len(line) for line in lines), default=0)
    if longest > options.max_chars_per_line:
        single = any(size == 1 and len(line) > options.max_chars_per_line for size, line in zip(cue.line_sizes, lines))
        add("max_chars_per_line", longest, options.max_chars_per_line,
            "a single word longer than a line; words are never split" if single else "")
    if len(lines) > options.max_lines:
        add("max_lines", len(lines), options.max_lines)
    speed = cue.chars_per_s()
    if speed > options.max_chars_per_s:
        add("max_chars_per_s", round(speed, 2) if speed != float("inf") else None, options.max_chars_per_s,
            "" if speed != float("inf") else "text shown for no time")
    if cue.duration_ms < options.min_duration_ms:
        add("min_duration_ms", cue.duration_ms, options.min_duration_ms)
    if cue.duration_ms > options.max_duration_ms:
        add("max_duration_ms", cue.duration_ms, options.max_duration_ms,
            "a single word spoken longer than the maximum" if len(cue.words) == 1 else "")
    if previous is not None:
        gap = cue.start_ms - previous.end_ms
        if gap < 0:
            add("overlap", gap, 0, f"overlaps cue {number - 1}")
        elif gap < options.min_gap_ms:
            add("min_gap_ms", gap, options.min_gap_ms, f"gap after cue {number - 1}")
    return found


def check_shots(cue: Cue, number: int, grid: ShotGrid) -> list[Violation]:
    """The shot rules ``cue`` breaks (stages/subtitles/shots.py): measured is the signed distance in
    frames from the cut (the edge's frame less the cut's), the limit ``snap_frames``."""
    found = []
    for cut in grid.start_problems(cue.start_ms):
        found.append(Violation("shot_change_start", grid.frame(cue.start_ms) - cut, grid.snap_frames, number,
                               cue.start_ms, cue.end_ms, cue.text,
                               f"cut at frame {cut} ({grid.ms(cut)} ms): start on it or {grid.snap_frames} frames away"))
    for cut in grid.end_problems(cue.end_ms):
        found.append(Violation("shot_change_end", grid.frame(cue.end_ms) - cut, grid.snap_frames, number,
                               cue.start_ms, cue.end_ms, cue.text,
                               f"cut at frame {cut} ({grid.ms(cut)} ms): end {grid.end_gap_frames} frames before it "
                               f"or {grid.snap_frames} frames away"))
    return found


def check(cues: Sequence[Cue], options: SubtitleOptions, grid: ShotGrid | None = None) -> list[Violation]:
    """Every rule the cues break; with ``grid`` (the video's shot changes) the shot rules too."""
    found: list[Violation] = []
    for k, cue in enumerate(cues):
        found.extend(check_cue(cue, k + 1, options, cues[k - 1] if k else None))
        if grid is not None:
            found.extend(check_shots(cue, k + 1, grid))
    return found


def profile(options: SubtitleOptions) -> dict[str, Any]:
    """The layout rules in force (the options without the output formats)."""
    return {k: v for k, v in to_dict(options).items() if k != "formats"}


def report(cues: Sequence[Cue], violations: Sequence[Violation], options: SubtitleOptions) -> dict[str, Any]:
    """The qc.json record."""
    by_rule = Counter(v.rule for v in violations)
    return {
        "schema": SCHEMA_VERSION,
        "profile": profile(options),
        "cue_count": len(cues),
        "violation_count": len(violations),
        "cues_with_violations": len({v.cue for v in violations}),
        "violations_by_rule": {rule: by_rule[rule] for rule in RULES if by_rule[rule]},
        "violations": [asdict(v) for v in violations],
    }


CSV_HEADER = ("LineNumber", "TimeCode", "Context", "Comment")


def time_code(ms: int) -> str:
    """``hh:mm:ss,mmm`` as in SRT."""
    ms = max(0, int(ms))
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def _number(value: float | int) -> str:
    return f"{value:g}"


def comment(v: dict[str, Any]) -> str:
    """A violation of qc.json (a dict) in words."""
    rule, m, limit = v["rule"], v["measured"], v["limit"]
    if rule == "max_chars_per_line":
        text = f"Line of {m} characters is longer than the maximum {limit}"
    elif rule == "max_lines":
        text = f"{m} lines, more than the maximum {limit}"
    elif rule == "max_chars_per_s":
        text = ("Text shown for no time" if m is None
                else f"Reading speed {m:.1f} characters/second is above the maximum {_number(limit)}")
    elif rule == "min_duration_ms":
        text = f"Duration {m} ms is below the minimum {limit} ms"
    elif rule == "max_duration_ms":
        text = f"Duration {m} ms is above the maximum {limit} ms"
    elif rule == "min_gap_ms":
        text = f"Gap of {m} ms after the previous cue is below the minimum {limit} ms"
    elif rule == "overlap":
        text = f"Overlaps the previous cue by {-m} ms"
    elif rule == "shot_change_start":
        text = f"Starts {abs(m)} frames {'after' if m > 0 else 'before'} a shot change (fewer than {limit})"
    elif rule == "shot_change_end":
        text = f"Ends {abs(m)} frames {'after' if m > 0 else 'before'} a shot change (fewer than {limit})"
    else:
        text = f"{rule}: {m} (limit {limit})"
    note = v.get("note") or ""
    return f"{text} ({note})" if note and rule not in ("overlap", "min_gap_ms") else text


def csv_report(record: dict[str, Any]) -> str:
    """qc.csv from the qc.json record (see the module docstring)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    if "tracks" in record:
        parts = [(f"{t['language']} {t['kind']}: ", t["violations"]) for t in record["tracks"]]
    else:
        parts = [("", record["violations"])]
    for prefix, violations in parts:
        for v in violations:
            writer.writerow((v["cue"], time_code(v["start_ms"]), " / ".join(v["text"].split("\n")), prefix + comment(v)))
    return out.getvalue()
