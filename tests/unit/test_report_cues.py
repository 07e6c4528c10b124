"""The subtitle tracks the report reads (host/report/cues.py): one file per track, pysubs2 where
installed, the few lines SRT needs where not (the container executor's plain python3)."""

from __future__ import annotations

import pytest

from host.report import cues
from shared.schema import SubtitleFile, SubtitleManifest
from tests.report_job import SRT, write_ass

SRT_WITH_TAGS = """\ufeff1\r
00:00:01,000 --> 00:00:02,500\r
<i>♪ la la ♪</i>\r
\r
2\r
01:02:03.004 --> 01:02:04,5\r
[Ana] Hi\r
<font color="red">there</font>\r
"""


def manifest(*files: tuple[str, str, str, str]) -> SubtitleManifest:
    return SubtitleManifest(tuple(SubtitleFile(*f) for f in files), 0)


@pytest.mark.parametrize("text", [SRT, SRT_WITH_TAGS])
def test_the_stdlib_srt_reader_reads_what_pysubs2_reads(tmp_path, text):
    path = tmp_path / "a.en.srt"
    path.write_text(text, encoding="utf-8")
    assert cues.read_srt(path.read_text(encoding="utf-8")) == cues._read_pysubs2(path)


def test_srt_times_and_lines():
    found = cues.read_srt(SRT_WITH_TAGS)
    assert found == [cues.Cue(1000, 2500, "♪ la la ♪"), cues.Cue(3723004, 3724500, "[Ana] Hi\nthere")]


def test_one_file_per_track_srt_first_and_other_files_ignored(tmp_path):
    (tmp_path / "film.en.srt").write_text(SRT, encoding="utf-8")
    write_ass(tmp_path / "film.es.ass", [(0, 1000, "Hola")])
    listed = manifest(("film.en.vtt", "en", "vtt", "transcript"), ("film.en.srt", "en", "srt", "transcript"),
                      ("film.en.json", "en", "json", "transcript"), ("film.es.ass", "es", "ass", "translation"),
                      ("film.rttm", "en", "rttm", "speakers"), ("qc.csv", "en", "csv", "qc"))
    tracks, notes = cues.read_tracks(tmp_path, listed, max_cues=100)
    assert [(t.name, t.language, t.kind, t.path, len(t.cues)) for t in tracks] == [
        ("film.en", "en", "transcript", "film.en.srt", 3), ("film.es", "es", "translation", "film.es.ass", 1)]
    assert notes == []


def test_without_pysubs2_srt_is_read_and_a_track_without_srt_is_a_note(tmp_path, monkeypatch):
    monkeypatch.setattr(cues, "_have_pysubs2", lambda: False)
    (tmp_path / "film.en.srt").write_text(SRT, encoding="utf-8")
    listed = manifest(("film.en.srt", "en", "srt", "transcript"), ("film.es.ass", "es", "ass", "translation"))
    tracks, notes = cues.read_tracks(tmp_path, listed, max_cues=100)
    assert [t.name for t in tracks] == ["film.en"] and tracks[0].cues[2].text == "Line one\nline two"
    assert notes == ["track film.es: only vtt, ass files, which need pysubs2 (the venv)"]


def test_a_long_track_is_capped_and_a_broken_one_is_a_note(tmp_path):
    (tmp_path / "film.en.srt").write_text(SRT, encoding="utf-8")
    (tmp_path / "film.fr.srt").write_bytes(b"\xff\xfe\x00 not utf-8 \xc3")
    listed = manifest(("film.en.srt", "en", "srt", "transcript"), ("film.fr.srt", "fr", "srt", "translation"))
    tracks, notes = cues.read_tracks(tmp_path, listed, max_cues=2)
    assert [len(t.cues) for t in tracks] == [2]
    assert notes[0] == "track film.en: 3 cues, the first 2 shown"
    assert notes[1].startswith("track film.fr: cannot read film.fr.srt: UnicodeDecodeError")
