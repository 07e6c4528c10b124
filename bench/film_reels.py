"""Film reels with exact references: real speech placed over music, noise, tones and silence.

    python -m bench.film_reels [--smoke]     # writes the reels into bench/results/film/ and lists them

Every reel is made here from the eval recordings (../shared/eval-data: jfk.flac,
sample.wav with sample.stm, stereo_diarization.wav, multilingual.mp3), flite
sentences and sounds synthesised with numpy (music beds and the sung passage
from bench/eval_lyrics.py, rain, babble, room tone, effects), then wrapped by
ffmpeg in a film container (a tiny black video track). Nothing is committed but
this recipe; the media are rebuilt into the cache when the recipe changes.

The reference is known by construction, because we place every clip:

* a *passage* is one placed clip: where it lies on the audio timeline, its kind
  (``dialogue``, ``song``, ``foreign``), its language and its reference text
  (the eval-data README's text, sample.stm's phrases, flite's input);
* the passage's *voiced extent* (its speech region) is the clip's first and
  last sample above -40 dBFS (20 ms frames), measured on the clean source, so a
  reference phrase starts at the first voiced frame of its clip. sample.wav is
  placed phrase by phrase with sample.stm's own times. We do not align the
  reference words inside a phrase (no forced aligner is to be had offline):
  cue timing is scored on cues that start a reference phrase, against that
  phrase's first-word start;
* song regions are the sung passage with its music; non-speech is everything
  outside every voiced extent (music, noise, babble, room tone, effects).

Times in the reference are on the *audio* timeline; ``audio_delay_s`` is where
the audio starts on the video's timeline (2.0 s in the offset reels), so a time
on the video's timeline is ``t + audio_delay_s``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from bench import eval_lyrics
from bench.audio_fixtures import EVAL_DATA, REPO_ROOT

SR = 16000
RECIPE_VERSION = 1
CACHE = REPO_ROOT / "bench" / "results" / "film"
DIALOGUE_RMS = 0.05  # about -26 dBFS: every dialogue clip is brought to this level
VOICED_DBFS = -40.0  # a 20 ms frame above this is voiced (the clean sources are quiet between words)

JFK_TEXT = ("And so my fellow Americans, ask not what your country can do for you, "
            "ask what you can do for your country.")
STEREO_TEXTS = ("He began a confused complaint against the wizard, who had vanished behind the curtain on the left.",
                "The horizon seems extremely distant.")
GERMAN_FROM_S = 31.0  # multilingual.mp3: English until 29.0 s, a 2 s pause, then the same text in German
FLITE_LINES = eval_lyrics.DIALOGUE[:4]


@dataclass(frozen=True)
class Passage:
    start_s: float  # voiced extent on the audio timeline
    end_s: float
    text: str  # reference text ("" when unknown, e.g. the German half)
    kind: str  # dialogue, song, foreign
    language: str  # ISO 639-1
    source: str


@dataclass
class Reel:
    name: str
    description: str
    media: Path
    duration_s: float
    passages: list[Passage] = field(default_factory=list)
    songs: list[tuple[float, float]] = field(default_factory=list)  # song regions (the music included)
    audio_delay_s: float = 0.0  # audio start on the video's timeline
    layout: str = "mono"

    def to_json(self) -> dict:
        data = asdict(self)
        data["media"] = str(self.media)
        return data


# ---------------------------------------------------------------- sources (16 kHz mono float32)

def _decode(path: Path, channel: int | None = None, start_s: float = 0.0, end_s: float | None = None) -> np.ndarray:
    """A file (or one of its channels, a time range) as 16 kHz mono float32, by ffmpeg."""
    filters = [f"pan=mono|c0=c{channel}"] if channel is not None else []
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-ss", f"{start_s:.3f}"]
    if end_s is not None:
        cmd += ["-t", f"{end_s - start_s:.3f}"]
    cmd += ["-i", str(path), *(["-af", ",".join(filters)] if filters else []), "-ac", "1", "-ar", str(SR),
            "-f", "f32le", "-"]
    return np.frombuffer(subprocess.run(cmd, capture_output=True, check=True).stdout, dtype=np.float32).copy()


def voiced_extent(audio: np.ndarray, dbfs: float = VOICED_DBFS, frame_s: float = 0.02) -> tuple[float, float]:
    """First and last 20 ms frame above ``dbfs`` (seconds into ``audio``)."""
    n = int(frame_s * SR)
    frames = len(audio) // n
    if frames == 0:
        return 0.0, 0.0
    rms = np.sqrt(np.mean(audio[:frames * n].reshape(frames, n) ** 2, axis=1))
    loud = np.flatnonzero(20 * np.log10(np.maximum(rms, 1e-9)) > dbfs)
    if not len(loud):
        return 0.0, 0.0
    return float(loud[0] * frame_s), float((loud[-1] + 1) * frame_s)


def _level(audio: np.ndarray, rms: float = DIALOGUE_RMS) -> np.ndarray:
    """``audio`` scaled so its voiced part has RMS ``rms``."""
    a, b = voiced_extent(audio)
    voiced = audio[int(a * SR):int(b * SR)]
    return (audio * (rms / max(1e-9, eval_lyrics._rms(voiced)))).astype(np.float32)


@dataclass(frozen=True)
class Clip:
    audio: np.ndarray
    text: str
    kind: str
    language: str
    source: str


def dialogue_clips(work: Path) -> list[Clip]:
    """The shared dialogue: JFK, two flite voices, the two stereo_diarization speakers."""
    clips = [Clip(_level(_decode(EVAL_DATA / "jfk.flac")), JFK_TEXT, "dialogue", "en", "jfk.flac")]
    for i, (voice, text) in enumerate(FLITE_LINES[:2]):
        clips.append(Clip(_level(_flite(text, voice, work)), text, "dialogue", "en", f"flite:{voice}:{i}"))
    for channel, text in enumerate(STEREO_TEXTS):
        audio = _decode(EVAL_DATA / "stereo_diarization.wav", channel=channel)
        a, b = voiced_extent(audio)
        clips.append(Clip(_level(audio[int(max(0, a - 0.1) * SR):int((b + 0.1) * SR)]), text, "dialogue", "en",
                          f"stereo_diarization.wav:{'left' if channel == 0 else 'right'}"))
    for i, (voice, text) in enumerate(FLITE_LINES[2:4], start=2):
        clips.append(Clip(_level(_flite(text, voice, work)), text, "dialogue", "en", f"flite:{voice}:{i}"))
    return clips


def sample_call_clips() -> list[Clip]:
    """sample.wav cut at sample.stm's phrases (consecutive phrases of one speaker kept together)."""
    audio = _level(_decode(EVAL_DATA / "sample.wav"))
    clips = []
    for line in (EVAL_DATA / "sample.stm").read_text().splitlines():
        parts = line.split(maxsplit=5)
        if len(parts) < 6:
            continue
        start, end = float(parts[3]), float(parts[4])
        clips.append(Clip(audio[int(start * SR):int(end * SR)], parts[5], "dialogue", "en", f"sample.stm:{parts[2]}:{start:g}"))
    return clips


def german_clip() -> Clip:
    audio = _decode(EVAL_DATA / "multilingual.mp3", start_s=GERMAN_FROM_S)
    return Clip(_level(audio), "", "foreign", "de", "multilingual.mp3:german")


def _flite(text: str, voice: str, work: Path) -> np.ndarray:
    path = work / f"talk-{voice}-{zlib.crc32(text.encode()):08x}.wav"
    return eval_lyrics._flite(text, voice, path)


# ---------------------------------------------------------------- beds: music, noise, tones

def music(seconds: float, seed: int, drums: bool = True) -> np.ndarray:
    """A score (bench/eval_lyrics's chords, bass and drums) at the dialogue's level."""
    rng = np.random.default_rng(seed)
    bed = _bed(seconds, 96.0, 220.0, rng, drums)
    return (bed * (DIALOGUE_RMS / max(1e-9, eval_lyrics._rms(bed)))).astype(np.float32)


def _bed(seconds: float, bpm: float, root_hz: float, rng, drums: bool) -> np.ndarray:
    """eval_lyrics.music_bed made whole bars long (its last beat may not fit otherwise), cut to ``seconds``."""
    bar_s = 4 * 60.0 / bpm
    return eval_lyrics.music_bed(np.ceil(seconds / bar_s) * bar_s, bpm, root_hz, rng, drums)[:int(seconds * SR)]


def rain(seconds: float, seed: int) -> np.ndarray:
    """Rain-like: pink-ish noise, plus droplets (short high-passed clicks) at random."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    white = rng.standard_normal(n).astype(np.float32)
    spectrum = np.fft.rfft(white)
    freqs = np.fft.rfftfreq(n, 1 / SR)
    spectrum /= np.sqrt(np.maximum(freqs, 50.0) / 50.0)
    noise = np.fft.irfft(spectrum, n).astype(np.float32)
    for at in rng.integers(0, max(1, n - 800), size=int(seconds * 40)):
        drop = eval_lyrics._noise_hit(0.03, 0.004, rng, highpass=True) * float(rng.uniform(0.5, 3.0))
        noise[at:at + len(drop)] += drop[:n - at]
    return noise


def babble(seconds: float, seed: int, work: Path, talkers: int = 6) -> np.ndarray:
    """A crowd: ``talkers`` voices of reversed speech (speech-like, no words), overlapping."""
    rng = np.random.default_rng(seed)
    voices = [c.audio[::-1] for c in sample_call_clips()] + [_flite(t, v, work)[::-1] for v, t in eval_lyrics.DIALOGUE]
    n = int(seconds * SR)
    out = np.zeros(n, dtype=np.float32)
    for _ in range(talkers):
        cursor = int(rng.uniform(0, 1.0) * SR)
        while cursor < n:
            v = voices[int(rng.integers(len(voices)))]
            v = v / max(1e-9, eval_lyrics._rms(v))
            out[cursor:cursor + len(v)] += v[:n - cursor]
            cursor += len(v) + int(rng.uniform(0.1, 0.6) * SR)
    return out


def room_tone(seconds: float, seed: int) -> np.ndarray:
    """Brown noise with a faint 50 Hz hum, around -50 dBFS."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    brown = np.cumsum(rng.standard_normal(n)).astype(np.float32)
    brown -= np.convolve(brown, np.ones(800) / 800, mode="same")
    hum = 0.3 * np.sin(2 * np.pi * 50 * np.arange(n) / SR)
    tone = brown / max(1e-9, eval_lyrics._rms(brown)) + hum
    return (tone / max(1e-9, eval_lyrics._rms(tone)) * 0.003).astype(np.float32)


def effects(seconds: float, seed: int) -> np.ndarray:
    """Footsteps, door knocks, a whoosh and a phone's beeps."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    out = np.zeros(n, dtype=np.float32)

    def put(at_s: float, sound: np.ndarray, gain: float) -> None:
        a = int(at_s * SR)
        out[a:a + len(sound)] += gain * sound[:max(0, n - a)]

    for k in range(8):  # footsteps
        put(0.5 + 0.55 * k, eval_lyrics._noise_hit(0.12, 0.02, rng, highpass=False), 0.15)
    for k in range(3):  # knocks
        put(6.0 + 0.3 * k, eval_lyrics._kick(0.15), 0.4)
    t = np.arange(int(1.5 * SR)) / SR  # whoosh: noise swelling and fading
    put(9.0, (rng.standard_normal(len(t)) * np.sin(np.pi * t / 1.5) ** 2).astype(np.float32), 0.08)
    for k in range(4):  # beeps
        put(12.0 + 0.6 * k, eval_lyrics._tone(1400.0, 0.25, harmonics=1), 0.1)
    return out


def _at_snr(bed: np.ndarray, speech_rms: float, snr_db: float) -> np.ndarray:
    return (bed * (speech_rms / max(1e-9, eval_lyrics._rms(bed)) / 10 ** (snr_db / 20))).astype(np.float32)


# ---------------------------------------------------------------- assembly

class Timeline:
    """A mono track under construction: clips placed one after another, passages recorded."""

    def __init__(self) -> None:
        self.parts: list[np.ndarray] = []
        self.cursor_s = 0.0
        self.passages: list[Passage] = []

    def gap(self, seconds: float, fill: np.ndarray | None = None) -> None:
        n = int(seconds * SR)
        self.parts.append(np.zeros(n, np.float32) if fill is None else fill[:n].astype(np.float32))
        self.cursor_s += n / SR

    def clip(self, clip: Clip, pause_s: float = 1.0) -> None:
        a, b = voiced_extent(clip.audio)
        self.passages.append(Passage(round(self.cursor_s + a, 3), round(self.cursor_s + b, 3), clip.text, clip.kind,
                                     clip.language, clip.source))
        self.parts.append(clip.audio.astype(np.float32))
        self.cursor_s += len(clip.audio) / SR
        if pause_s:
            self.gap(pause_s)

    def audio(self) -> np.ndarray:
        return np.concatenate(self.parts) if self.parts else np.zeros(0, np.float32)


def _dialogue(t: Timeline, clips: list[Clip], pause_s: float = 1.0) -> None:
    for c in clips:
        t.clip(c, pause_s)


def song_passage(work: Path, seed: int) -> tuple[np.ndarray, list[tuple[float, float, str]]]:
    """Two sung lines over a music bed (bench/eval_lyrics's singer): audio and the lines' voiced extents."""
    rng = np.random.default_rng(seed)
    bpm, root = 96.0, 220.0
    beat = 60.0 / bpm
    vocals, lines, at, position = [], [], 2 * beat, 0
    for line in eval_lyrics.SONG_LINES[0][:2]:
        words = line.split()
        notes = [eval_lyrics._note_hz(root, eval_lyrics.MELODIES[0][(position + i) % len(eval_lyrics.MELODIES[0])])
                 for i in range(len(words))]
        position += len(words)
        sung = eval_lyrics.sung_line(words, notes, beat, work)
        sung = _level(sung)
        a, b = voiced_extent(sung)
        lines.append((at + a, at + b, line))
        vocals.append((at, sung))
        at += len(sung) / SR + beat
    length = at + beat
    mix = np.zeros(int(length * SR), dtype=np.float32)
    for start, sung in vocals:
        s = int(start * SR)
        mix[s:s + len(sung)] += sung[:len(mix) - s]
    mix += _at_snr(_bed(length, bpm, root, rng, True), DIALOGUE_RMS, 3.0)
    return mix, lines


def _write_wav(path: Path, audio: np.ndarray | list[np.ndarray]) -> None:
    import soundfile

    channels = np.stack(audio, axis=1) if isinstance(audio, list) else audio
    peak = float(np.abs(channels).max()) if channels.size else 0.0
    if peak > 0.99:
        raise ValueError(f"{path.name}: the mix clips (peak {peak:.2f}); lower the levels")
    soundfile.write(str(path), channels, SR, subtype="PCM_16")


def _film(wav: Path, out: Path, duration_s: float, *, audio_delay_s: float = 0.0, layout: str = "mono") -> None:
    """``wav`` with a tiny black video track in ``out`` (MP4: AAC; MKV: FLAC), audio delayed on the video's timeline."""
    audio_codec = ["-c:a", "aac", "-b:a", "128k" if layout == "mono" else "384k"] if out.suffix == ".mp4" else ["-c:a", "flac"]
    layout_args = ["-channel_layout", "5.1"] if layout == "5.1" else []
    delay = ["-itsoffset", f"{audio_delay_s:.3f}"] if audio_delay_s else []
    tmp = out.with_name(out.stem + ".partial" + out.suffix)
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", f"color=c=black:s=160x90:r=5:d={duration_s + audio_delay_s:.3f}",
                    *delay, *layout_args, "-i", str(wav), "-map", "0:v", "-map", "1:a",
                    "-c:v", "libx264", "-preset", "ultrafast", "-tune", "stillimage", "-pix_fmt", "yuv420p",
                    *audio_codec, "-ar", "48000", "-metadata:s:a:0", "language=eng", str(tmp)],
                   check=True, capture_output=True)
    tmp.replace(out)


def build_reels(folder: Path = CACHE, smoke: bool = False) -> list[Reel]:
    """Every reel (only ``smoke`` in smoke mode), rebuilt when its recipe changed; reels.json beside them."""
    folder.mkdir(parents=True, exist_ok=True)
    work = folder / "sources"
    work.mkdir(exist_ok=True)
    key = f"{RECIPE_VERSION}-{'smoke' if smoke else 'full'}-{zlib.crc32(Path(__file__).read_bytes()):08x}"
    index = folder / f"reels-{key}.json"
    if index.is_file():
        reels = [Reel(**{**r, "media": folder / Path(r["media"]).name, "passages": [Passage(**p) for p in r["passages"]],
                         "songs": [tuple(s) for s in r["songs"]]}) for r in json.loads(index.read_text())]
        if all(r.media.is_file() for r in reels):
            return reels
    dialogue = dialogue_clips(work)
    speech_rms = DIALOGUE_RMS
    reels: list[Reel] = []

    def finish(name: str, description: str, t: Timeline, *, bed: np.ndarray | None = None, suffix: str = ".mp4",
               audio_delay_s: float = 0.0, songs: list[tuple[float, float]] | None = None) -> Reel:
        audio = t.audio()
        if bed is not None:
            audio = audio + bed[:len(audio)]
        wav = work / f"{name}.wav"
        _write_wav(wav, audio)
        media = folder / f"{name}{suffix}"
        _film(wav, media, len(audio) / SR, audio_delay_s=audio_delay_s)
        reel = Reel(name, description, media, round(len(audio) / SR, 3), t.passages, songs or [], audio_delay_s)
        reels.append(reel)
        return reel

    if smoke:
        t = Timeline()
        t.gap(3.0, room_tone(3.0, 1))
        _dialogue(t, dialogue[:1])
        finish("smoke", "3 s room tone, then JFK", t)
        _save(index, reels)
        return reels

    t = Timeline()
    t.gap(20.0, music(20.0, 1))
    _dialogue(t, dialogue)
    finish("intro-music", "20 s of music alone, then the dialogue in silence", t)

    t = Timeline()
    t.gap(2.0)
    _dialogue(t, dialogue + sample_call_clips()[5:13], pause_s=1.0)
    finish("dialogue-clean", "the dialogue in silence, then part of a phone call (sample.wav)", t)

    for name, snr in (("music-10db", 10.0), ("music-5db", 5.0)):
        t = Timeline()
        t.gap(2.0)
        _dialogue(t, dialogue)
        bed = _at_snr(music(t.cursor_s + 1, 2, drums=False), speech_rms, snr)
        finish(name, f"the dialogue under a music bed at {snr:g} dB SNR (no drums, chords and bass)", t, bed=bed)

    t = Timeline()
    t.gap(2.0)
    _dialogue(t, dialogue)
    finish("rain", "the dialogue under rain at 5 dB SNR", t, bed=_at_snr(rain(t.cursor_s + 1, 3), speech_rms, 5.0))

    t = Timeline()
    t.gap(2.0)
    _dialogue(t, dialogue)
    finish("babble", "the dialogue over a low babble (reversed speech, 15 dB SNR)", t,
           bed=_at_snr(babble(t.cursor_s + 1, 4, work), speech_rms, 15.0))

    t = Timeline()
    t.gap(15.0, np.zeros(15 * SR, np.float32))
    t.gap(15.0, room_tone(15.0, 5))
    t.gap(20.0, 0.5 * music(20.0, 6))
    t.gap(15.0, effects(15.0, 7))
    t.gap(15.0, _at_snr(babble(15.0, 11, work, talkers=4), speech_rms, 0.0))
    t.gap(2.0)
    _dialogue(t, dialogue[:1])
    finish("no-speech", "80 s without speech: silence, room tone, music, effects, a crowd's walla "
           "(reversed speech at the dialogue's level); then one line", t)

    t = Timeline()
    t.gap(1.0)
    _dialogue(t, dialogue[1:2])
    song_audio, lines = song_passage(work, 8)
    song_start = t.cursor_s
    for a, b, text in lines:
        t.passages.append(Passage(round(song_start + a, 3), round(song_start + b, 3), text, "song", "en", "eval_lyrics singer"))
    t.gap(len(song_audio) / SR, song_audio)
    songs = [(round(song_start, 3), round(t.cursor_s, 3))]
    t.gap(1.0)
    _dialogue(t, dialogue[2:3])
    finish("song", "a line, a sung passage over music, a line", t, songs=songs)

    # 5.1: the dialogue in the centre only; music left/right and surround, bass in the LFE
    t = Timeline()
    t.gap(2.0)
    _dialogue(t, dialogue)
    n = len(t.audio())
    score = music(n / SR + 1, 9)[:n]
    score = _at_snr(score, speech_rms, 0.0)
    ambience = _at_snr(rain(n / SR + 1, 10)[:n], speech_rms, 6.0)
    lfe = np.convolve(score, np.ones(64) / 64, mode="same").astype(np.float32)
    channels = [score, score * 0.9, t.audio(), lfe, ambience, ambience[::-1].copy()]  # FL FR FC LFE BL BR
    wav = work / "surround-5.1.wav"
    _write_wav(wav, [c.astype(np.float32) for c in channels])
    media = folder / "surround-5.1.mp4"
    _film(wav, media, n / SR, layout="5.1")
    reels.append(Reel("surround-5.1", "5.1: the dialogue in the centre channel only; music at 0 dB SNR in front left/right "
                      "and its bass in the LFE; rain in the surrounds", media, round(n / SR, 3), t.passages, [], 0.0, "5.1"))

    base = reels[1]  # dialogue-clean
    for suffix in (".mp4", ".mkv"):
        t = Timeline()
        t.parts, t.passages, t.cursor_s = [_read_wav(work / "dialogue-clean.wav")], list(base.passages), base.duration_s
        finish(f"offset-{suffix[1:]}", f"dialogue-clean with the audio starting 2.0 s after the video ({suffix[1:].upper()})",
               t, suffix=suffix, audio_delay_s=2.0)

    t = Timeline()
    t.gap(1.0)
    _dialogue(t, dialogue[:1])
    t.clip(german_clip(), 1.0)
    _dialogue(t, dialogue[1:2])
    finish("german", "an English line, the German half of multilingual.mp3, an English line", t)
    _save(index, reels)
    return reels


def _read_wav(path: Path) -> np.ndarray:
    import soundfile

    audio, _ = soundfile.read(str(path), dtype="float32")
    return audio


def _save(index: Path, reels: list[Reel]) -> None:
    index.write_text(json.dumps([r.to_json() for r in reels], indent=1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.film_reels", description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="one short reel")
    parser.add_argument("--folder", type=Path, default=CACHE)
    args = parser.parse_args(argv)
    for reel in build_reels(args.folder, args.smoke):
        speech = sum(p.end_s - p.start_s for p in reel.passages)
        print(f"{reel.name:15s} {reel.duration_s:6.1f} s  speech {speech:5.1f} s  {len(reel.passages):2d} passages  {reel.media}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
