"""Rule checks on final cues, and the QC report (qc.json).

Each rule is named after the profile setting it enforces, and a violation
records the measured value, the limit and the cue (1-based index as in the
SRT file, times, text). ``min_gap_ms`` is reported on the later cue of the
pair. A cue that breaks nothing is not listed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from shared.options import to_dict
from shared.options.subtitles import SubtitleOptions
from stages.subtitles.cues import Cue

SCHEMA_VERSION = 1
RULES = ("max_chars_per_line", "max_lines", "max_chars_per_s", "min_duration_ms", "max_duration_ms", "min_gap_ms", "overlap")


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


def check(cues: Sequence[Cue], options: SubtitleOptions) -> list[Violation]:
    found: list[Violation] = []
    for k, cue in enumerate(cues):
        found.extend(check_cue(cue, k + 1, options, cues[k - 1] if k else None))
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
