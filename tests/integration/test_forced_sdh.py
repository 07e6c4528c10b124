"""The forced and SDH tracks end to end: real demux, silero-vad, asr, translation or
lyrics-detection, subtitles and mux on generated videos, checked with ffprobe.

* multilingual.mp3 (English 0-29 s, then German 29-60 s) as a video, transcribed with the
  embedded multilingual ``base``: the forced track holds the German half in English and
  nothing of the English half; mux marks it forced and English.
* a reel of speech, 10 s of synthesized chords, speech (jfk.flac twice): the SDH track has a
  music cue in the gap and none over speech; mux marks it hearing impaired.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from bench.metrics import normalize_text
from host.jobs import create_job
from shared import graph, schema
from shared.errors import ModelNotFound
from shared.models import resolve_whisper
from tests.conftest import make_media, run_stage

pytestmark = pytest.mark.integration

GERMAN_START_S = 29.0  # multilingual.mp3: the German half starts here
KEY_WORDS = ("software", "documentation", "copy", "copies", "right", "rights", "use", "modify", "distribute",
             "sell", "license", "publish", "permission", "free")
MUSIC_S = (11.0, 21.0)  # the reel: jfk.flac (11 s), chords, jfk.flac again


def only(*stages: str) -> dict[str, str]:
    return {"SKIP_STAGES": ",".join(s.name for s in graph.STAGES if s.skippable and s.name not in stages)}


def run_all(job, jobs_dir, stages: tuple[str, ...], **env: str) -> None:
    for name in stages:
        result = run_stage(name, job.id, jobs_dir, **env)
        assert result.returncode == 0, f"{name}: {result.stderr}"


def probe(path) -> list[dict]:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return [s for s in json.loads(out)["streams"] if s["codec_type"] == "subtitle"]


def srt_cues(text: str) -> list[tuple[float, float, str]]:
    def seconds(stamp: str) -> float:
        h, m, s = stamp.replace(",", ".").split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)

    cues = []
    for block in text.strip().split("\n\n"):
        lines = block.splitlines()
        start, _, end = lines[1].partition(" --> ")
        cues.append((seconds(start), seconds(end), " ".join(lines[2:])))
    return cues


def test_the_forced_track_holds_the_german_half_in_english(eval_data, tmp_path, jobs_dir):
    try:
        resolve_whisper("base")
    except ModelNotFound as err:
        pytest.skip(f"the embedded multilingual model is not installed: {err}")
    media = make_media(tmp_path / "licence.mkv", "-f", "lavfi", "-i", "color=c=black:s=160x90:r=5:d=60",
                       "-i", str(eval_data / "multilingual.mp3"), "-c:v", "libx264", "-c:a", "aac", "-shortest")
    job = create_job(media, jobs_dir=jobs_dir)
    env = {**only("translation"), "ASR_MODEL": "base", "SUBTITLE_FORMATS": "srt,json"}
    run_all(job, jobs_dir, ("demux", "silero-vad", "asr", "translation", "subtitles", "mux"), **env)

    transcript = schema.load(job.root / "asr" / "transcript.json", schema.Transcript)
    assert transcript.language == "en"
    by_language = {s.language for s in transcript.segments if s.start_s >= GERMAN_START_S}
    assert by_language == {"de"} and {s.language for s in transcript.segments if s.end_s <= GERMAN_START_S} == {"en"}

    forced = schema.load(job.root / "translation" / "forced.json", schema.Translation)
    assert forced.language == "en" and forced.segments
    assert all(s.source_language == "de" and s.start_s >= GERMAN_START_S - 1 for s in forced.segments)
    english = normalize_text(" ".join(s.text for s in forced.segments))
    assert len(set(english.split()) & set(KEY_WORDS)) >= 4, english

    cues = srt_cues((job.root / "subtitles" / "licence.en.forced.srt").read_text())
    assert cues and min(start for start, _, _ in cues) >= GERMAN_START_S - 1  # nothing of the English half
    assert "permission is hereby granted" not in normalize_text(" ".join(t for _, _, t in cues))
    manifest = schema.load(job.root / "subtitles" / "manifest.json", schema.SubtitleManifest)
    assert {(f.language, f.kind) for f in manifest.files if f.format == "srt"} == {("en", "transcript"), ("en", "forced")}

    muxed = schema.load(job.root / "mux" / "manifest.json", schema.MuxManifest)
    streams = probe(job.root / "mux" / muxed.path)
    assert [(s["tags"].get("language"), s["tags"].get("title"), s["disposition"]["forced"]) for s in streams] == [
        ("eng", "English", 0), ("eng", "English (forced)", 1)]


def test_the_sdh_track_has_a_music_cue_in_the_music_and_none_over_speech(eval_data, tmp_path, jobs_dir):
    speech = make_media(tmp_path / "speech.wav", "-i", str(eval_data / "jfk.flac"), "-ar", "16000", "-ac", "1")
    # an A major chord over a low A, pulsing twice a second: music with no voice in it
    tones = ";".join(f"sine=frequency={f}:duration=10:sample_rate=16000[t{k}]" for k, f in enumerate((110, 220, 277, 330)))
    media = make_media(tmp_path / "reel.mkv", "-f", "lavfi", "-i", "color=c=black:s=160x90:r=5:d=32", "-i", str(speech),
                       "-i", str(speech), "-filter_complex",
                       f"{tones};[t0][t1][t2][t3]amix=inputs=4,volume=3,apulsator=hz=2[music];"
                       "[1:a][music][2:a]concat=n=3:v=0:a=1[a]",
                       "-map", "0:v", "-map", "[a]", "-c:v", "libx264", "-c:a", "aac")
    job = create_job(media, jobs_dir=jobs_dir)
    env = {**only("lyrics-detection"), "SUBTITLE_SDH": "true", "SUBTITLE_FORMATS": "srt,json"}
    run_all(job, jobs_dir, ("demux", "silero-vad", "asr", "lyrics-detection", "subtitles", "mux"), **env)

    regions = schema.load(job.root / "lyrics-detection" / "lyrics.json", schema.LyricRegions).regions
    assert regions and all(MUSIC_S[0] - 1 <= r.start_s and r.end_s <= MUSIC_S[1] + 1 for r in regions)
    sdh = srt_cues((job.root / "subtitles" / "reel.en.sdh.srt").read_text())
    music = [c for c in sdh if c[2] == "[MUSIC]"]
    dialogue = [c for c in sdh if c[2] != "[MUSIC]"]
    assert len(music) == 1 and MUSIC_S[0] - 0.5 <= music[0][0] and music[0][1] <= MUSIC_S[1] + 0.5
    assert music[0][1] - music[0][0] >= 2.0
    assert all(end <= music[0][0] or start >= music[0][1] for start, end, _ in dialogue)  # never over speech
    assert any(start < MUSIC_S[0] for start, _, _ in dialogue) and any(start > MUSIC_S[1] for start, _, _ in dialogue)
    assert "[MUSIC]" not in (job.root / "subtitles" / "reel.en.srt").read_text()  # only the SDH track has it

    muxed = schema.load(job.root / "mux" / "manifest.json", schema.MuxManifest)
    streams = probe(job.root / "mux" / muxed.path)
    assert [(s["tags"].get("language"), s["tags"].get("title"), s["disposition"]["hearing_impaired"]) for s in streams] == [
        ("eng", "English", 0), ("eng", "English (SDH)", 1)]
