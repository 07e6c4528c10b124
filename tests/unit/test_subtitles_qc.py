"""QC rule checks and the qc.json record."""

from __future__ import annotations

import json

from shared.options.subtitles import SubtitleOptions
from stages.subtitles import qc
from stages.subtitles.cues import Cue, CueWord

DEFAULT = SubtitleOptions()


def cue(text: str, start_ms: int, end_ms: int, line_sizes: tuple[int, ...] | None = None) -> Cue:
    words = tuple(CueWord(k, start_ms, end_ms, t) for k, t in enumerate(text.split()))
    return Cue(start_ms, end_ms, words, line_sizes or (len(words),))


def rules(violations) -> list[str]:
    return [v.rule for v in violations]


def test_a_good_cue_breaks_nothing():
    assert qc.check([cue("Good morning.", 1000, 2000), cue("Did you sleep well?", 2100, 3500)], DEFAULT) == []


def test_each_rule_with_measured_value_and_limit():
    (v,) = qc.check([cue("Hi.", 0, 500)], DEFAULT)
    assert (v.rule, v.measured, v.limit, v.cue, v.start_ms, v.end_ms, v.text) == ("min_duration_ms", 500, 833, 1, 0, 500, "Hi.")
    (v,) = qc.check([cue("Nooooo", 0, 8000)], DEFAULT)
    assert (v.rule, v.measured, v.limit) == ("max_duration_ms", 8000, 7000)
    (v,) = qc.check([cue("x" * 30, 0, 1000)], DEFAULT)
    assert (v.rule, v.measured, v.limit) == ("max_chars_per_s", 30.0, 20.0)
    (v,) = qc.check([cue("a b c", 0, 1000, (1, 1, 1))], DEFAULT)
    assert (v.rule, v.measured, v.limit) == ("max_lines", 3, 2)
    (v,) = qc.check([cue("Good morning.", 0, 1000), cue("Hello.", 1050, 2000)], DEFAULT)
    assert (v.rule, v.measured, v.limit, v.cue) == ("min_gap_ms", 50, 83, 2)
    (v,) = qc.check([cue("Good morning.", 0, 1100), cue("Hello.", 1050, 2000)], DEFAULT)
    assert (v.rule, v.measured, v.cue) == ("overlap", -50, 2)


def test_a_word_longer_than_a_line_is_reported_as_such():
    long_word = "pneumonoultramicroscopicsilicovolcanoconiosis"
    (v,) = qc.check([cue(long_word, 0, 3000)], DEFAULT)
    assert (v.rule, v.measured, v.limit) == ("max_chars_per_line", len(long_word), 42)
    assert "single word longer than a line" in v.note


def test_text_shown_for_no_time_reads_infinitely_fast():
    found = qc.check([cue("Hi.", 100, 100)], DEFAULT)
    assert set(rules(found)) == {"max_chars_per_s", "min_duration_ms"}
    speed = next(v for v in found if v.rule == "max_chars_per_s")
    assert speed.measured is None and speed.note


def test_report_is_json_with_profile_counts_and_every_violation():
    cues = [cue("Hi.", 0, 500), cue("x" * 30, 600, 1600), cue("Fine here.", 2000, 3000)]
    record = qc.report(cues, qc.check(cues, DEFAULT), DEFAULT)
    json.dumps(record, allow_nan=False)
    assert record["profile"]["max_chars_per_line"] == 42 and "formats" not in record["profile"]
    assert record["cue_count"] == 3
    assert record["violation_count"] == 2 and record["cues_with_violations"] == 2
    assert record["violations_by_rule"] == {"max_chars_per_s": 1, "min_duration_ms": 1}
    assert [(v["cue"], v["rule"]) for v in record["violations"]] == [(1, "min_duration_ms"), (2, "max_chars_per_s")]


def test_the_csv_report_has_one_row_per_violation_in_subtitle_edits_columns():
    cues = [cue("Hi.", 0, 500), cue("Hello, \"you\", there", 3_723_004, 3_723_104)]
    record = qc.report(cues, qc.check(cues, DEFAULT), DEFAULT)
    text = qc.csv_report(record)
    lines = text.splitlines()
    assert lines[0] == "LineNumber,TimeCode,Context,Comment"
    assert lines[1] == '1,"00:00:00,000",Hi.,Duration 500 ms is below the minimum 833 ms'
    assert lines[2].startswith('2,"01:02:03,004","Hello, ""you"", there",Reading speed 190.0 characters/second')
    assert len(lines) == 1 + record["violation_count"]


def test_the_csv_report_names_the_track_of_each_row():
    cues = [cue("Hi.", 0, 500)]
    record = qc.report(cues, qc.check(cues, DEFAULT), DEFAULT)
    record["tracks"] = [{"language": "es", "kind": "translation", **record}]
    assert qc.csv_report(record).splitlines()[1].endswith(",es translation: Duration 500 ms is below the minimum 833 ms")
