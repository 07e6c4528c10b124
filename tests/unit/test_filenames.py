"""Output names that fit the file system: a 245-character film name through subtitles and mux."""

from __future__ import annotations

import json
import subprocess

import pytest

from host.jobs import create_job
from shared import graph, schema
from shared.filenames import MAX_NAME_BYTES, fitted, full_name
from shared.schema import Segment, Transcript, Word
from tests.conftest import make_media, run_stage

NAME_MAX = 255  # bytes per name on ext4, xfs, btrfs, tmpfs


def test_a_name_that_fits_is_kept_as_it_is():
    assert fitted("Movie Night", ".en.srt") == "Movie Night.en.srt"
    assert full_name("Movie Night", ".en.srt", "Movie Night.en.srt") == ""


def test_a_long_name_keeps_its_suffix_and_fits():
    stem = "A" * 250
    name = fitted(stem, ".en.translation.srt")
    assert len(name.encode()) == MAX_NAME_BYTES and name.endswith(".en.translation.srt")
    assert name.startswith("A" * 100) and "~" in name
    assert full_name(stem, ".en.translation.srt", name) == stem + ".en.translation.srt"


def test_shortened_names_are_stable_and_unique():
    one, other = "x" * 240 + "part one", "x" * 240 + "part two"
    assert fitted(one, ".en.srt") == fitted(one, ".en.srt")
    assert fitted(one, ".en.srt") != fitted(other, ".en.srt")
    assert fitted(one, ".en.srt")[:-7] == fitted(one, ".fr.srt")[:-7]  # every track of a film shares its stem


def test_multibyte_names_are_cut_at_a_character_boundary():
    stem = "Amélie et le café " * 20  # é: two bytes
    for limit in range(40, 60):
        name = fitted(stem, ".fr.vtt", limit)
        assert len(name.encode("utf-8")) <= limit and name.endswith(".fr.vtt")
        name.encode("utf-8").decode("utf-8")  # valid UTF-8 (a cut é would raise)


def test_a_suffix_with_no_room_left_is_refused():
    with pytest.raises(ValueError, match="no room"):
        fitted("film", "." + "x" * 40, 30)


def spoken(text: str, start_s: float) -> Segment:
    words = tuple(Word(round(start_s + k * 0.35, 3), round(start_s + k * 0.35 + 0.3, 3), " " + w, 0.9)
                  for k, w in enumerate(text.split()))
    return Segment(words[0].start_s, words[-1].end_s, " " + text, words)


def test_a_245_character_film_name_through_subtitles_and_mux(tmp_path, jobs_dir):
    stem = "The Extraordinarily Long Director's Cut of a Film " * 5  # 250 characters
    stem = stem[:231] + "éééééééééé"  # 241 characters, 251 bytes: with ".mkv", 245 characters, 255 bytes
    media = make_media(tmp_path / f"{stem}.mkv", "-f", "lavfi", "-i", "testsrc=s=64x48:r=10:d=3",
                       "-f", "lavfi", "-i", "sine=f=440:d=3", "-c:v", "mpeg4", "-c:a", "mp2")
    assert len(media.name) == 245 and len(media.name.encode()) == NAME_MAX
    job = create_job(media, jobs_dir=jobs_dir)
    alone = {"SKIP_STAGES": ",".join(s.name for s in graph.STAGES if s.skippable)}
    assert (proc := run_stage("demux", job.id, jobs_dir, **alone)).returncode == 0, proc.stderr
    (job.root / "asr").mkdir()
    schema.write(job.root / "asr" / "transcript.json",
                 Transcript("en", 0.99, 3.0, (spoken("Good morning.", 0.2), spoken("Did you sleep well?", 1.4))))
    proc = run_stage("subtitles", job.id, jobs_dir, **alone, SUBTITLE_FORMATS="srt,vtt,ass,json,txt,tsv")
    assert proc.returncode == 0, proc.stderr
    manifest = schema.load(job.root / "subtitles" / "manifest.json", schema.SubtitleManifest)
    tracks = [f for f in manifest.files if f.kind == "transcript"]
    assert len(tracks) == 6
    for f in tracks:
        assert (job.root / "subtitles" / f.path).is_file()
        assert len(f.path.encode()) <= NAME_MAX and f.path.endswith(f".en.{f.format}")
        assert f.full_name == f"{stem}.en.{f.format}"  # the original name, kept in the manifest
    assert len({f.path[: -len(f.format)] for f in tracks}) == 1

    assert (proc := run_stage("mux", job.id, jobs_dir, **alone)).returncode == 0, proc.stderr
    muxed = schema.load(job.root / "mux" / "manifest.json", schema.MuxManifest)
    assert muxed.path.endswith(".subtitled.mkv") and len(muxed.path.encode()) <= NAME_MAX
    assert muxed.full_name == f"{stem}.subtitled.mkv"
    streams = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json",
                                         str(job.root / "mux" / muxed.path)],
                                        capture_output=True, text=True, check=True).stdout)["streams"]
    assert [s["codec_type"] for s in streams].count("subtitle") == 1
