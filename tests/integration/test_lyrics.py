"""Lyrics detection on films built with known songs (bench/eval_lyrics.py: flite dialogue, flite
singing over chords and drums, dialogue over a soft score): F1 over time at least 0.8; and no
song found in real speech."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from bench.eval_lyrics import build_fixture, time_f1, transcript_for
from host.jobs import create_job
from shared import graph, schema
from shared.options.lyrics_detection import LyricsDetectionOptions
from shared.options.subtitles import SubtitleOptions
from stages.lyrics_detection.stage import detect
from stages.subtitles import tracks
from stages.subtitles.cues import to_ms, words_from_transcript
from tests.conftest import make_media, run_stage

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(shutil.which("flite") is None, reason="flite is not installed (apt-get install flite)")]


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lyrics")
    return [build_fixture(folder, seed) for seed in (0, 1)]


@pytest.mark.parametrize("with_transcript", [False, True], ids=["audio", "audio+transcript"])
def test_f1_over_time_on_synthetic_films(fixtures, with_transcript):
    for fixture in fixtures:
        transcript = transcript_for(fixture) if with_transcript else schema.Transcript("en", 1.0, fixture.duration_s, ())
        regions, _ = detect(fixture.wav, transcript, LyricsDetectionOptions())
        score = time_f1(fixture.songs, [(r.start_s, r.end_s) for r in regions], fixture.duration_s)
        assert score["f1"] >= 0.8, (score, fixture.songs, regions)
        for a, b in fixture.talk_over_music:  # dialogue over a score is not a song
            assert time_f1([(a, b)], [(r.start_s, r.end_s) for r in regions], fixture.duration_s)["recall"] < 0.2


def test_every_sung_cue_is_marked_and_no_spoken_one(fixtures):
    """The subtitles' song marks from the regions found: a region found a little late or cut in
    two still marks every line of the song, and talk before and after is never marked."""
    for fixture in fixtures:
        transcript = transcript_for(fixture)
        regions, _ = detect(fixture.wav, transcript, LyricsDetectionOptions())
        words, _ = words_from_transcript(transcript)
        cues = tracks.make_cues(words, SubtitleOptions(), to_ms(fixture.duration_s),
                                [(to_ms(r.start_s), to_ms(r.end_s)) for r in regions])
        for cue in cues:
            inside = [any(a * 1000 <= (w.start_ms + w.end_ms) / 2 < b * 1000 for a, b in fixture.songs) for w in cue.words]
            assert cue.lyric == all(inside) == any(inside), (cue.plain, cue.start_ms, regions)


def test_stage_as_users_run_it(fixtures, jobs_dir):
    fixture = fixtures[0]
    job = create_job(fixture.wav, jobs_dir=jobs_dir)
    (job.root / "demux").mkdir()
    make_media(job.root / "demux" / "audio.wav", "-i", str(fixture.wav), "-c:a", "pcm_s16le")
    (job.root / "asr").mkdir()
    schema.write(job.root / "asr" / "transcript.json", transcript_for(fixture))
    skip = ",".join(s.name for s in graph.STAGES if s.skippable and s.name != "lyrics-detection")
    result = run_stage("lyrics-detection", job.id, jobs_dir, SKIP_STAGES=skip)
    assert result.returncode == 0, result.stderr
    found = schema.load(job.root / "lyrics-detection" / "lyrics.json", schema.LyricRegions)
    assert len(found.regions) == 2
    assert all(r.text_score is not None and 0.5 <= r.confidence <= 1 for r in found.regions)
    assert time_f1(fixture.songs, [(r.start_s, r.end_s) for r in found.regions], fixture.duration_s)["f1"] >= 0.8


@pytest.mark.parametrize("name", ["jfk.flac", "sample.wav", "multilingual.mp3"])
def test_no_song_in_real_speech(eval_data, tmp_path, name):
    wav = tmp_path / "speech.wav"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(eval_data / name), "-ac", "1", "-ar", "16000",
                    str(wav)], check=True)
    regions, _ = detect(wav, schema.Transcript("en", 1.0, 0.0, ()), LyricsDetectionOptions())
    assert regions == []
