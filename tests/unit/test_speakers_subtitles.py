"""Subtitles with speakers: a cue per speaker turn, labels or dialogue dashes, ASS styles,
speaker-attributed JSON and RTTM; and subtitles without the speakers stage."""

from __future__ import annotations

import json
from pathlib import Path

import pysubs2

from shared import schema
from shared.options.subtitles import SubtitleOptions
from shared.schema import MediaInfo, StreamInfo
from shared.speakers import SpeakerSegment, SpeakerTranscript, SpeakerWord, Turn, parse_rttm
from stages.subtitles import qc
from stages.subtitles.cues import CueWord
from stages.subtitles.stage import run
from stages.subtitles.tracks import make_cues

MEDIA = MediaInfo("Call.mkv", "matroska,webm", 20.0, (StreamInfo(0, "audio", "aac", "eng", 2, 48000),), 0, "eng")


def said(text: str, speaker: str, start_ms: int, step_ms: int = 300, first_index: int = 0) -> list[CueWord]:
    return [CueWord(first_index + k, start_ms + k * step_ms, start_ms + k * step_ms + 250, w, speaker=speaker)
            for k, w in enumerate(text.split())]


def dialogue() -> list[CueWord]:
    words = said("Hello? Is anybody there?", "Diane", 1000)
    words += said("Yes, I am here.", "Sheila", 2300, first_index=len(words))
    words += said("I didn't know you were there, I thought the line was dead.", "Diane", 3600, first_index=len(words))
    return [CueWord(k, w.start_ms, w.end_ms, w.text, speaker=w.speaker) for k, w in enumerate(words)]


def test_label_style_starts_a_cue_at_every_change_and_labels_it():
    cues = make_cues(dialogue(), SubtitleOptions(), 20000)
    for cue in cues:
        assert len(set(w.speaker for w in cue.words)) == 1  # never two speakers in one cue
    assert cues[0].lines[0].startswith("[Diane] Hello?")
    sheila = next(c for c in cues if c.words[0].speaker == "Sheila")
    assert sheila.lines[0] == "[Sheila] Yes, I am here."
    after = cues[cues.index(sheila) + 1]
    assert after.lines[0].startswith("[Diane] ")
    for cue in cues[cues.index(after) + 1:]:
        assert not cue.lines[0].startswith("[")  # the same speaker goes on: no label
    assert not [v for v in qc.check(cues, SubtitleOptions()) if v.rule == "max_chars_per_line"]


def test_a_label_that_makes_a_line_too_long_relays_the_cue_out():
    words = said("Absolutely everything that happened yesterday was planned", "Maximilian", 0)
    words += said("Really?", "Diane", 4000, first_index=len(words))
    options = SubtitleOptions(max_chars_per_line=42)
    cues = make_cues(words, options, 10000)
    assert cues[0].lines[0].startswith("[Maximilian] ")
    assert all(len(line) <= 42 for c in cues for line in c.lines)
    assert [w.text for c in cues for w in c.words] == [w.text for w in words]


def test_dash_style_joins_a_short_exchange_into_one_dialogue_cue():
    words = said("Coffee?", "Diane", 1000) + said("Yes, please.", "Sheila", 1600, first_index=1)
    cues = make_cues([CueWord(k, w.start_ms, w.end_ms, w.text, speaker=w.speaker) for k, w in enumerate(words)],
                     SubtitleOptions(speaker_style="dash"), 10000)
    assert len(cues) == 1
    assert cues[0].lines == ("- Coffee?", "- Yes, please.")
    assert cues[0].speakers == ("Diane", "Sheila")


def test_dash_style_keeps_long_turns_apart():
    cues = make_cues(dialogue(), SubtitleOptions(speaker_style="dash"), 20000)
    long_turn = [c for c in cues if "dead." in c.plain][0]
    assert not long_turn.lines[0].startswith("- ")
    assert all(len(c.speakers) <= 2 for c in cues)


def test_none_style_ignores_speakers():
    cues = make_cues(dialogue(), SubtitleOptions(speaker_style="none"), 20000)
    assert not any(line.startswith(("[", "- ")) for c in cues for line in c.lines)


def speaker_record() -> SpeakerTranscript:
    def seg(text, speaker, start):
        ws = tuple(SpeakerWord(round(start + k * 0.3, 3), round(start + k * 0.3 + 0.25, 3), " " + w, 0.9, speaker, "turn")
                   for k, w in enumerate(text.split()))
        return SpeakerSegment(ws[0].start_s, ws[-1].end_s, " " + text, ws)

    return SpeakerTranscript(
        "en", 0.99, 20.0,
        (seg("Hello? Is anybody there?", "SPEAKER_00", 1.0), seg("Coffee?", "SPEAKER_01", 3.0),
         seg("Yes, please.", "SPEAKER_00", 3.6)),
        {"SPEAKER_00": "Diane Lane", "SPEAKER_01": "Sheila"}, {"method": "asr"},
        (Turn(0.9, 2.3, "SPEAKER_00"), Turn(2.9, 3.3, "SPEAKER_01"), Turn(3.5, 4.2, "SPEAKER_00")),
    )


def stage_files(folder: Path, with_speakers: bool) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    record = speaker_record()
    schema.write(folder / "transcript.json", record.to_transcript())
    schema.write(folder / "media.json", MEDIA)
    inputs = {"transcript": folder / "transcript.json", "media_info": folder / "media.json"}
    if with_speakers:
        schema.write(folder / "words.json", record)
        inputs["speaker_words"] = folder / "words.json"
    return inputs


def run_subtitles(tmp_path, options, with_speakers=True):
    out = tmp_path / "out"
    out.mkdir()
    report = run(stage_files(tmp_path / "in", with_speakers), {"subtitles": out / "manifest.json", "qc_report": out / "qc.json"},
                 options, lambda *a: None)
    return out, schema.load(out / "manifest.json", schema.SubtitleManifest), report


def test_stage_writes_labels_ass_styles_speaker_json_and_rttm(tmp_path):
    out, manifest, report = run_subtitles(tmp_path, SubtitleOptions())
    assert report.metrics["speakers"] == 2
    srt = (out / "Call.en.srt").read_text()
    assert "[Diane Lane] Hello?" in srt and "[Sheila] Coffee?" in srt
    ass = pysubs2.load(str(out / "Call.en.ass"))
    assert {"Diane Lane", "Sheila"} <= set(ass.styles)
    assert ass.styles["Diane Lane"].primarycolor != ass.styles["Sheila"].primarycolor
    assert [e.style for e in ass.events][:2] == ["Diane Lane", "Sheila"]
    cues = json.loads((out / "Call.en.json").read_text())["cues"]
    assert cues[0]["speakers"] == ["Diane Lane"] and cues[0]["words"][0]["speaker"] == "Diane Lane"
    rttm = [f for f in manifest.files if f.format == "rttm"]
    assert rttm and rttm[0].kind == "speakers"
    turns = parse_rttm((out / rttm[0].path).read_text())["Call"]
    assert [t.speaker for t in turns] == ["Diane_Lane", "Sheila", "Diane_Lane"]


def test_stage_dash_style_switches_ass_style_on_the_second_line(tmp_path):
    out, _, _ = run_subtitles(tmp_path, SubtitleOptions(speaker_style="dash"))
    ass = pysubs2.load(str(out / "Call.en.ass"))
    dialogue_events = [e for e in ass.events if "\\r" in e.text]
    assert dialogue_events and dialogue_events[0].text.startswith("- ")
    assert "{\\rDiane Lane}- Yes, please." in dialogue_events[0].text


def test_stage_without_the_speakers_stage_writes_plain_subtitles(tmp_path):
    out, manifest, report = run_subtitles(tmp_path, SubtitleOptions(), with_speakers=False)
    assert report.metrics["speakers"] == 0
    assert not [f for f in manifest.files if f.format == "rttm"]
    assert "[" not in (out / "Call.en.srt").read_text()


def test_one_speaker_all_through_gets_plain_subtitles():
    words = said("And so my fellow Americans ask not what your country can do for you", "Speaker 1", 0)
    plain = [CueWord(w.index, w.start_ms, w.end_ms, w.text) for w in words]
    shown = [(c.start_ms, c.end_ms, c.lines) for c in make_cues(words, SubtitleOptions(), 20000)]
    assert shown == [(c.start_ms, c.end_ms, c.lines) for c in make_cues(plain, SubtitleOptions(), 20000)]
    assert not shown[0][2][0].startswith("[")


def test_a_word_nobody_was_assigned_to_does_not_cut_the_turn():
    bare = make_cues(dialogue(), SubtitleOptions(), 20000)
    # a word in an overlap or a gap of the diarization comes back with no speaker: in the
    # middle of a turn (10), or the first word of one (8), nearer to its own turn in time
    for k in (8, 10):
        words = dialogue()
        words[k] = CueWord(words[k].index, words[k].start_ms, words[k].end_ms, words[k].text)
        cues = make_cues(words, SubtitleOptions(), 20000)
        assert [c.words[0].index for c in cues] == [c.words[0].index for c in bare]
        assert [c.lines[0][:9] for c in cues] == [c.lines[0][:9] for c in bare]
