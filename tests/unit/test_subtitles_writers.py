"""File formats, with golden output for a small hand-made transcript."""

from __future__ import annotations

import json
import re

import pysubs2

from shared.options.subtitles import SubtitleOptions
from shared.schema import Segment, Transcript, Word
from stages.subtitles.cues import Cue, CueWord, words_from_transcript
from stages.subtitles.tracks import make_cues
from stages.subtitles.writers import FORMATS, WRITERS, write_ass, write_json, write_srt, write_tsv, write_txt, write_vtt


def spoken(text: str, start_s: float, step_s: float = 0.35, dur_s: float = 0.3) -> Segment:
    words = tuple(Word(round(start_s + k * step_s, 3), round(start_s + k * step_s + dur_s, 3), " " + w, 0.9)
                  for k, w in enumerate(text.split()))
    return Segment(words[0].start_s, words[-1].end_s, " " + text, words)


THREE_SENTENCES = Transcript("en", 1.0, 12.0, (
    spoken("Good morning.", 1.0),
    spoken("Did you sleep well?", 2.0),
    spoken("I made coffee and toast for both of us, but you slept so long that it all went cold.", 4.0),
))

GOLDEN_SRT = """\
1
00:00:01,000 --> 00:00:01,833
Good morning.

2
00:00:02,000 --> 00:00:03,350
Did you sleep well?

3
00:00:04,000 --> 00:00:07,067
I made coffee and toast for both of us,

4
00:00:07,150 --> 00:00:10,600
but you slept so long
that it all went cold.

"""


def golden_cues() -> list[Cue]:
    words, _ = words_from_transcript(THREE_SENTENCES)
    return make_cues(words, SubtitleOptions(), 12000)


def test_golden_srt_for_three_sentences():
    # "Good morning." is stretched to the 833 ms minimum; the long sentence does not fit
    # two 42-char lines, so it is cut at its comma and the first part ends 83 ms before the next.
    assert write_srt(golden_cues(), "en") == GOLDEN_SRT


def test_golden_vtt_tsv_txt():
    cues = golden_cues()
    assert write_vtt(cues, "en") == "WEBVTT\n\n" + re.sub(r"(\d\d),(\d\d\d)", r"\1.\2", GOLDEN_SRT)
    assert write_tsv(cues, "en") == (
        "start_ms\tend_ms\ttext\n"
        "1000\t1833\tGood morning.\n"
        "2000\t3350\tDid you sleep well?\n"
        "4000\t7067\tI made coffee and toast for both of us,\n"
        "7150\t10600\tbut you slept so long that it all went cold.\n")
    assert write_txt(cues, "en") == (
        "Good morning.\n\nDid you sleep well?\n\nI made coffee and toast for both of us,\n\n"
        "but you slept so long\nthat it all went cold.\n")


def test_json_is_our_cue_list_with_words():
    record = json.loads(write_json(golden_cues(), "en"))
    assert record["language"] == "en" and len(record["cues"]) == 4
    first = record["cues"][0]
    assert first == {"index": 1, "start_ms": 1000, "end_ms": 1833, "text": "Good morning.", "lines": ["Good morning."],
                     "words": [{"start_ms": 1000, "end_ms": 1300, "text": "Good", "probability": 0.9},
                               {"start_ms": 1350, "end_ms": 1650, "text": "morning.", "probability": 0.9}]}
    assert record["cues"][3]["lines"] == ["but you slept so long", "that it all went cold."]


def test_ass_round_trips_through_pysubs2():
    text = write_ass(golden_cues(), "en", "Movie")
    subs = pysubs2.SSAFile.from_string(text)
    assert subs.info["Title"] == "Movie"
    assert [(e.start, e.end) for e in subs] == [(1000, 1830), (2000, 3350), (4000, 7070), (7150, 10600)]  # centiseconds
    assert subs[3].text == "but you slept so long\\Nthat it all went cold."


def test_markup_characters_survive_as_text():
    words = tuple(CueWord(k, 0, 1000, t) for k, t in enumerate(["{laughs}", "<i>AT&T</i>", "C:\\new"]))
    cues = [Cue(0, 1000, words, (3,))]
    assert "{laughs} <i>AT&T</i> C:\u2216new" in write_srt(cues, "en")
    assert "{laughs} &lt;i&gt;AT&amp;T&lt;/i&gt; C:\u2216new" in write_vtt(cues, "en")
    assert pysubs2.SSAFile.from_string(write_ass(cues, "en"))[0].plaintext == "(laughs) <i>AT&T</i> C:\u2216new"


def test_every_format_writes_a_valid_empty_file():
    for fmt in FORMATS:
        assert isinstance(WRITERS[fmt]([], "en", "x"), str)
    assert write_srt([], "en") == ""
    assert write_vtt([], "en").startswith("WEBVTT")
    assert json.loads(write_json([], "en"))["cues"] == []
    assert write_tsv([], "en") == "start_ms\tend_ms\ttext\n"
    assert write_txt([], "en") == ""
    assert len(pysubs2.SSAFile.from_string(write_ass([], "en"))) == 0
