"""What the report reads from a job folder (host/report/collect.py): each section from its
stage's file, a missing stage an empty section, a broken file a note, long lists capped."""

from __future__ import annotations

import json

from host.report.collect import Limits, collect
from shared.job import Job
from tests.report_job import DURATION_S, HOSTILE_CUE, SPEAKER_NAMES, build_job


def test_every_section_from_its_file(tmp_path):
    record = collect(Job(build_job(tmp_path / "film")))
    assert record["job"]["id"] == "film" and record["job"]["input_name"] == "film <film>.mkv"
    assert record["duration_s"] == DURATION_S and record["job"]["streams"] == ["audio aac (eng)"]
    assert record["speech"] == {"silero-vad": [[0.9, 3.6], [3.9, 9.3]], "pyannote-vad": [[1.0, 3.5]]}
    assert record["speakers"] == {"source": "speakers/words.json", "names": SPEAKER_NAMES,
                                  "turns": [[1.0, 3.5, "SPEAKER_00"], [4.0, 9.25, "SPEAKER_01"]]}
    assert record["songs"] == [[9.5, 11.5, 0.8]]
    assert record["shots"] == [2.0, 8.0]
    assert [(t["name"], t["kind"], len(t["cues"])) for t in record["tracks"]] == [
        ("film.en", "transcript", 3), ("film.es", "translation", 2)]
    assert record["tracks"][0]["cues"][0] == [1000, 3500, "Hello there, Ana."]
    assert [(v["track"], v["cue"], v["rule"]) for v in record["qc"]] == [
        ("film.en", 2, "max_chars_per_s"), ("film.es", 2, "max_chars_per_s")]
    assert record["qc"][1]["text"] == HOSTILE_CUE
    assert record["corrections"]["corrections"][0]["corrected"] == "Ana"
    assert record["corrections"]["near_misses"][0]["candidate"] == "Bo"
    assert record["removals"] == [{"start_s": 10.0, "end_s": 11.0, "text": "Thanks for watching!", "reason": "phantom_phrase"}]
    assert len(record["envelope"]["peak"]) == 1200
    assert record["notes"] == []
    json.dumps(record, allow_nan=False)  # JSON-ready as it is


def test_stages_with_timings_model_and_the_summary_status(tmp_path):
    job = Job(build_job(tmp_path / "film"))
    by_stage = {s["stage"]: s for s in collect(job)["stages"]}
    asr = by_stage["asr"]
    assert (asr["status"], asr["wall_s"], asr["cpu_s"], asr["peak_rss_mb"]) == ("ran", 5.25, 2.625, 263.4)
    assert asr["model"]["name"] == "tiny.en" and asr["model"]["compute_type"] == "int8"
    assert by_stage["mux"]["status"] == "not run" and by_stage["mux"]["wall_s"] is None
    summary = {"wall_s": 9.5, "stages": [{"stage": "asr", "status": "failed (1)", "notes": []},
                                         {"stage": "translation", "status": "skipped", "notes": []}]}
    (job.root / "asr" / "outcome.json").write_text(json.dumps({"stage": "asr", "status": "failed", "error": "asr: out of memory"}))
    by_stage = {s["stage"]: s for s in collect(job, summary)["stages"]}
    assert by_stage["asr"]["status"] == "failed (1)" and by_stage["asr"]["error"] == "asr: out of memory"
    assert by_stage["asr"]["wall_s"] is None and by_stage["asr"]["model"] == {}  # the lock is an older run's
    assert by_stage["translation"]["status"] == "skipped"


def test_qc_without_tracks_belongs_to_the_original_track(tmp_path):
    root = build_job(tmp_path / "film")
    qc = json.loads((root / "subtitles" / "qc.json").read_text())
    del qc["tracks"]
    (root / "subtitles" / "qc.json").write_text(json.dumps(qc))
    assert [(v["track"], v["cue"]) for v in collect(Job(root))["qc"]] == [("film.en", 2)]


def test_a_job_with_only_a_job_file_gives_empty_sections(tmp_path):
    root = tmp_path / "bare"
    root.mkdir()
    (root / "job.json").write_text(json.dumps({"input": {"path": "/m/a.mkv", "name": "a.mkv"}}))
    record = collect(Job(root))
    assert (record["envelope"], record["speakers"], record["shots"], record["corrections"]) == (None, None, None, None)
    assert (record["speech"], record["songs"], record["tracks"], record["qc"], record["removals"]) == ({}, [], [], [], [])
    assert record["notes"] == [] and {s["status"] for s in record["stages"]} == {"not run"}


def test_without_the_speakers_stage_diarization_turns_are_shown(tmp_path):
    root = build_job(tmp_path / "film", shots=False)
    (root / "speakers" / "words.json").unlink()
    (root / "diarization").mkdir()
    (root / "diarization" / "speakers.json").write_text(json.dumps({
        "speakers": ["S1"], "turns": [{"start_s": 1, "end_s": 2, "speaker": "S1"}],
        "exclusive": [{"start_s": 1, "end_s": 2, "speaker": "S1"}], "overlaps": [], "audio_duration_s": 12}))
    record = collect(Job(root))
    assert record["speakers"] == {"source": "diarization/speakers.json", "names": {"S1": "S1"}, "turns": [[1.0, 2.0, "S1"]]}
    assert record["shots"] is None


def test_a_broken_file_costs_its_section_and_says_so(tmp_path):
    root = build_job(tmp_path / "film")
    (root / "lyrics-detection" / "lyrics.json").write_text("{not json")
    (root / "shots" / "shots.json").write_text(json.dumps([1.5, {"time_s": 0.5}, "x", True]))  # a bare list is read too
    (root / "demux" / "audio.wav").write_bytes(b"RIFF junk")
    record = collect(Job(root))
    assert record["songs"] == [] and record["envelope"] is None
    assert record["shots"] == [0.5, 1.5]
    assert [n.split(":")[0] for n in record["notes"]] == ["demux/audio.wav", "lyrics-detection/lyrics.json"]
    assert record["tracks"] and record["qc"]  # the rest is there


def test_long_lists_are_capped_and_long_texts_cut(tmp_path):
    record = collect(Job(build_job(tmp_path / "film")), limits=Limits(regions=1, cues=2, text_chars=10, envelope_points=50))
    assert record["speech"]["silero-vad"] == [[0.9, 3.6]] and len(record["tracks"][0]["cues"]) == 2
    assert len(record["envelope"]["peak"]) == 50
    assert record["qc"][1]["text"] == HOSTILE_CUE[:9] + "…"
    assert "silero-vad regions: 2, the first 1 shown" in record["notes"]
    assert "track film.en: 3 cues, the first 2 shown" in record["notes"]
