"""Subtitles per language and the mux of every track: real demux, subtitles and mux stages on a
small Matroska file, with translations and a song region written as their stages write them."""

from __future__ import annotations

import json
import subprocess

import pytest

from host.jobs import create_job
from shared import graph, schema
from tests.conftest import make_media, run_stage

pytestmark = pytest.mark.integration


def only(*stages: str) -> dict[str, str]:
    env = {"SKIP_STAGES": ",".join(s.name for s in graph.STAGES if s.skippable and s.name not in stages)}
    if "translation" in stages:  # without targets translation has nothing to do and its files are not read
        env["TARGET_LANGUAGES"] = "es,de"
    return env


def spoken(text: str, start_s: float, step_s: float = 0.4) -> schema.Segment:
    words = tuple(schema.Word(round(start_s + k * step_s, 3), round(start_s + k * step_s + 0.35, 3), " " + w, 0.9)
                  for k, w in enumerate(text.split()))
    return schema.Segment(words[0].start_s, words[-1].end_s, " " + text, words)


LINES = (("Where were you last night?", 0.5, "¿Dónde estabas anoche?", "Wo warst du gestern Abend?"),
         ("I was at the station until late.", 2.5, "Estuve en la estación hasta tarde.", "Ich war bis spät am Bahnhof."),
         ("Oh my darling hold me close tonight", 7.0, "Oh mi amor abrázame esta noche", "Oh mein Schatz halt mich heut Nacht"))


@pytest.fixture
def job(tmp_path, jobs_dir):
    media = make_media(tmp_path / "scene.mkv", "-f", "lavfi", "-i", "color=c=black:s=160x90:r=10:d=12",
                       "-f", "lavfi", "-i", "sine=f=220:d=12", "-c:v", "libx264", "-c:a", "aac", "-shortest")
    job = create_job(media, jobs_dir=jobs_dir)
    assert run_stage("demux", job.id, jobs_dir).returncode == 0
    (job.root / "asr").mkdir()
    segments = tuple(spoken(en, start) for en, start, _, _ in LINES)
    schema.write(job.root / "asr" / "transcript.json", schema.Transcript("en", 0.99, 12.0, segments))
    folder = job.root / "translation"
    folder.mkdir()
    files = []
    for language, column in (("es", 2), ("de", 3)):
        translated = tuple(schema.TranslatedSegment(s.start_s, s.end_s, s.text, line[column], "en", "translated")
                           for s, line in zip(segments, LINES))
        schema.write(folder / f"{language}.json", schema.Translation(language, translated, {"backend": "transformers"}))
        files.append(schema.TranslationFile(language, f"{language}.json", "transformers", len(translated)))
    schema.write(folder / "manifest.json", schema.TranslationManifest(tuple(files)))
    schema.write(folder / "forced.json", schema.Translation("en", ()))  # one language: no forced passage
    (job.root / "lyrics-detection").mkdir()
    schema.write(job.root / "lyrics-detection" / "lyrics.json",
                 schema.LyricRegions((schema.LyricRegion(6.5, 11.5, 0.9, 0.9, 0.8),), 12.0))
    return job


def test_every_language_is_a_track_with_its_tag_and_songs_are_marked(job, jobs_dir):
    env = only("translation", "lyrics-detection")
    subtitles = run_stage("subtitles", job.id, jobs_dir, SUBTITLE_KEEP_ORIGINAL="1", SUBTITLE_FORMATS="srt,vtt,ass,json",
                          **env)
    assert subtitles.returncode == 0, subtitles.stderr
    manifest = schema.load(job.root / "subtitles" / "manifest.json", schema.SubtitleManifest)
    assert sorted({(f.language, f.kind) for f in manifest.files if f.kind != "qc"}) == [("de", "translation"), ("en", "transcript"),
                                                                                          ("es", "translation")]
    folder = job.root / "subtitles"
    srt = (folder / "scene.es.srt").read_text()
    assert "♪ Oh mi amor abrázame esta noche ♪" in srt and srt.count("♪") == 2  # only the song's cue
    assert "<i>Oh mein Schatz" in (folder / "scene.de.vtt").read_text()
    assert "{\\i1}Oh my darling" in (folder / "scene.en.ass").read_text()
    cues = json.loads((folder / "scene.es.json").read_text())["cues"]
    assert [c.get("lyric", False) for c in cues][-1] is True and not cues[0].get("lyric")
    assert all(c["start_ms"] >= 0 and c["end_ms"] <= 12000 for c in cues)
    qc = json.loads((folder / "qc.json").read_text())
    assert [(t["language"], t["kind"]) for t in qc["tracks"]] == [("en", "transcript"), ("es", "translation"),
                                                                   ("de", "translation")]

    mux = run_stage("mux", job.id, jobs_dir, **env)
    assert mux.returncode == 0, mux.stderr
    out = job.root / "mux" / schema.load(job.root / "mux" / "manifest.json", schema.MuxManifest).path
    probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(out)],
                                      capture_output=True, text=True, check=True).stdout)
    tracks = [(s["tags"].get("language"), s["tags"].get("title")) for s in probe["streams"] if s["codec_type"] == "subtitle"]
    assert tracks == [("eng", "English"), ("spa", "Spanish (translation)"), ("ger", "German (translation)")]


def test_without_keep_original_only_the_translations_are_written(job, jobs_dir):
    result = run_stage("subtitles", job.id, jobs_dir, SUBTITLE_FORMATS="srt", **only("translation", "lyrics-detection"))
    assert result.returncode == 0, result.stderr
    manifest = schema.load(job.root / "subtitles" / "manifest.json", schema.SubtitleManifest)
    assert [(f.path, f.kind) for f in manifest.files] == [("scene.es.srt", "translation"), ("scene.de.srt", "translation"),
                                                         ("qc.csv", "qc")]
