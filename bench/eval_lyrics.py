"""Lyrics detection on synthetic films with known song regions: F1 over time.

    python -m bench.eval_lyrics            # every variant, results in bench/results/lyrics.json

A fixture is 16 kHz mono, about 100 s: dialogue (flite, two voices), a song
(flite's slt voice singing: every word held on one note of a melody with
flite's pitch flattened and its duration stretched, over chords, a bass line
and drums, all made in numpy), more dialogue, dialogue over a soft music bed
(the hard case: a film score under talk is not a song), a second song in
another key and tempo without drums, and dialogue to end. The truth is the
two songs' extents. Variants change the melodies, tempi, keys, voices and
levels (``seed``). A transcript with the lines that were spoken or sung is
made alongside, for the transcript cues.

F1 over time: precision and recall of the seconds marked as song, on a
10 ms grid.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS = REPO_ROOT / "bench" / "results" / "lyrics.json"
SR = 16000

DIALOGUE = (
    ("rms", "Where were you last night? I called three times and nobody answered."),
    ("slt", "I was at the station until late. The trains were all delayed by the storm."),
    ("rms", "You could have sent a message. Your mother was worried sick about you."),
    ("slt", "I know, and I am sorry. It will not happen again, I promise."),
    ("rms", "Sit down, the soup is still warm. We can talk about it after dinner."),
    ("slt", "Did anyone call about the apartment? They said they would let us know today."),
    ("rms", "Not yet. But the agent told me there were two other families interested."),
    ("slt", "Then we should go and see it again tomorrow morning, before they decide."),
)
SONG_LINES = (
    ("oh my darling, hold me close tonight", "every star is shining just for you",
     "oh my darling, hold me close tonight", "and the river sings the whole night through"),
    ("walking down the road to see you", "summer rain is falling on my face",
     "walking down the road to see you", "nothing in the world can take your place"),
)
# semitone offsets from the key's root for a simple melody, one per word (cycled)
MELODIES = ((0, 2, 4, 4, 2, 0, 7, 5, 4, 2), (4, 4, 5, 7, 7, 5, 4, 2, 0, 0, 2, 4), (7, 5, 4, 5, 7, 9, 7, 5, 4, 2))
PROGRESSION = ((0, 4, 7), (7, 11, 14), (9, 12, 16), (5, 9, 12))  # I V vi IV


@dataclass(frozen=True)
class Fixture:
    wav: Path
    duration_s: float
    songs: tuple[tuple[float, float], ...]  # the truth
    segments: tuple[tuple[float, float, str], ...]  # a transcript: what was said or sung, when
    talk_over_music: tuple[tuple[float, float], ...] = ()  # dialogue over a music bed: not song


def _flite(text: str, voice: str, path: Path, *settings: str) -> np.ndarray:
    import soundfile

    if not path.is_file():
        subprocess.run(["flite", "-voice", voice, *settings, "-t", text, "-o", str(path)], check=True,
                       capture_output=True, timeout=60)
    audio, rate = soundfile.read(path, dtype="float32")
    if rate != SR:
        raise RuntimeError(f"flite wrote {rate} Hz, expected {SR}")
    loud = np.flatnonzero(np.abs(audio) > 0.01)
    return audio[loud[0]:loud[-1] + 1] if len(loud) else audio


def _note_hz(root_hz: float, semitones: float) -> float:
    return root_hz * 2 ** (semitones / 12)


def _tone(freq: float, seconds: float, harmonics: int = 6, decay_s: float | None = None) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    wave = sum(np.sin(2 * np.pi * freq * k * t) / k for k in range(1, harmonics + 1))
    env = np.minimum(1.0, t / 0.02) * np.minimum(1.0, (seconds - t) / 0.05)
    if decay_s:
        env = env * np.exp(-t / decay_s)
    return (wave * env).astype(np.float32)


def _noise_hit(seconds: float, decay_s: float, rng, highpass: bool) -> np.ndarray:
    n = int(seconds * SR)
    noise = rng.standard_normal(n).astype(np.float32)
    if highpass:
        noise = np.diff(noise, prepend=0.0)
    return noise * np.exp(-np.arange(n) / SR / decay_s).astype(np.float32)


def _kick(seconds: float = 0.25) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    freq = 50 + 70 * np.exp(-t / 0.04)
    return (np.sin(2 * np.pi * np.cumsum(freq) / SR) * np.exp(-t / 0.09)).astype(np.float32)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x ** 2))) if len(x) else 0.0


def music_bed(seconds: float, bpm: float, root_hz: float, rng, drums: bool) -> np.ndarray:
    """Chords (one a bar), a bass note a beat, and drums: kick, snare, hi-hat."""
    out = np.zeros(int(seconds * SR) + SR, dtype=np.float32)
    beat = 60.0 / bpm
    bar = 4 * beat
    n_bars = int(np.ceil(seconds / bar))
    for b in range(n_bars):
        chord = PROGRESSION[b % len(PROGRESSION)]
        start = int(b * bar * SR)
        for semis in chord:
            tone = 0.25 * _tone(_note_hz(root_hz / 2, semis), bar, harmonics=5)
            out[start:start + len(tone)] += tone[:len(out) - start]
        for k in range(4):
            s = int((b * bar + k * beat) * SR)
            bass = 0.5 * _tone(_note_hz(root_hz / 4, chord[0]), beat, harmonics=3, decay_s=0.3)
            out[s:s + len(bass)] += bass[:len(out) - s]
            if drums:
                hit = _kick() if k % 2 == 0 else 0.4 * _noise_hit(0.2, 0.06, rng, highpass=False)
                out[s:s + len(hit)] += hit[:len(out) - s]
                for half in (0.0, 0.5):
                    h = int((b * bar + (k + half) * beat) * SR)
                    hat = 0.15 * _noise_hit(0.05, 0.012, rng, highpass=True)
                    out[h:h + len(hat)] += hat[:len(out) - h]
    return out[:int(seconds * SR)]


def sung_line(words: list[str], notes: list[float], beat_s: float, cache: Path, voice: str = "slt") -> np.ndarray:
    """Each word held on its note (flite, pitch flat at the note, duration stretched), on the beat."""
    out = np.zeros(0, dtype=np.float32)
    for word, hz in zip(words, notes):
        path = cache / f"sung-{voice}-{word.strip(',.')}-{hz:.1f}.wav"
        audio = _flite(word.strip(",."), voice, path, "--setf", "duration_stretch=2.2",
                       "--setf", f"int_f0_target_mean={hz:.1f}", "--setf", "int_f0_target_stddev=0")
        slot = max(len(audio), int(beat_s * SR))
        slot = int(np.ceil(slot / (beat_s * SR / 2)) * (beat_s * SR / 2))  # on the half-beat grid
        piece = np.zeros(slot, dtype=np.float32)
        piece[:len(audio)] = audio
        out = np.concatenate([out, piece])
    return out


def build_fixture(folder: Path, seed: int = 0) -> Fixture:
    """Write ``folder/lyrics-<seed>.wav`` and return it with its truth (flite renders are cached in ``folder``)."""
    import soundfile

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    parts: list[np.ndarray] = []
    segments: list[tuple[float, float, str]] = []
    songs: list[tuple[float, float]] = []
    over_music: list[tuple[float, float]] = []
    cursor = 0.0

    def add(audio: np.ndarray, text: str | None = None, pause_s: float = 0.0) -> None:
        nonlocal cursor
        if text:
            segments.append((cursor, cursor + len(audio) / SR, text))
        parts.append(audio)
        cursor += len(audio) / SR
        if pause_s:
            parts.append(np.zeros(int(pause_s * SR), dtype=np.float32))
            cursor += pause_s

    def talk(lines, level: float = 0.3) -> None:
        for voice, text in lines:
            speech = _flite(text, voice, folder / f"talk-{voice}-{zlib.crc32(text.encode()):08x}.wav")
            add(level * speech / max(1e-6, np.abs(speech).max()), text, float(rng.uniform(0.4, 1.0)))

    order = rng.permutation(len(DIALOGUE))
    dialogue = [DIALOGUE[i] for i in order]
    talk(dialogue[0:2])
    for song_index, drums in ((0, True), (1, False)):
        bpm = float(rng.choice([84, 96, 108, 120]))
        root = float(rng.choice([196.0, 220.0, 233.1, 261.6]))
        melody = MELODIES[int(rng.integers(len(MELODIES)))]
        beat = 60.0 / bpm
        vocals, lines_at = [], []
        at = 2 * beat * 4 / 2  # two beats of intro
        position = 0
        for line in SONG_LINES[(song_index + seed) % 2]:
            words = line.split()
            notes = [_note_hz(root, melody[(position + i) % len(melody)]) for i in range(len(words))]
            position += len(words)
            sung = sung_line(words, notes, beat, folder)
            lines_at.append((at, at + len(sung) / SR, line))
            vocals.append((at, sung))
            at += len(sung) / SR + beat
        length = at + beat
        mix = np.zeros(int(length * SR), dtype=np.float32)
        for start, sung in vocals:
            s = int(start * SR)
            mix[s:s + len(sung)] += 0.3 * sung / max(1e-6, np.abs(sung).max())
        bed = music_bed(length, bpm, root, rng, drums)
        voice_rms = _rms(mix[mix != 0]) if np.any(mix) else 0.1
        mix += bed * (voice_rms / max(1e-6, _rms(bed)) * float(rng.uniform(0.45, 0.7)))
        songs.append((cursor, cursor + length))
        segments += [(cursor + a, cursor + b, text) for a, b, text in lines_at]
        add(mix, None, float(rng.uniform(0.5, 1.0)))
        if song_index == 0:
            talk(dialogue[2:4])
            # dialogue over a soft score: not a song
            start = cursor
            under = []
            for voice, text in dialogue[4:6]:
                speech = _flite(text, voice, folder / f"talk-{voice}-{zlib.crc32(text.encode()):08x}.wav")
                under.append((text, 0.3 * speech / max(1e-6, np.abs(speech).max())))
            block = np.zeros(int(sum(len(a) / SR + 0.6 for _, a in under) * SR), dtype=np.float32)
            offset = 0.0
            for text, audio in under:
                s = int(offset * SR)
                block[s:s + len(audio)] += audio
                segments.append((start + offset, start + offset + len(audio) / SR, text))
                offset += len(audio) / SR + 0.6
            bed = music_bed(len(block) / SR, 72.0, 220.0, rng, drums=False)
            block += bed * (_rms(block[block != 0]) / max(1e-6, _rms(bed)) * 0.2)
            parts.append(block)
            cursor += len(block) / SR
            over_music.append((start, cursor))
    talk(dialogue[6:8])
    audio = np.concatenate(parts)
    audio = (0.8 * audio / max(1e-6, np.abs(audio).max())).astype(np.float32)
    wav = folder / f"lyrics-{seed}.wav"
    soundfile.write(wav, audio, SR, subtype="PCM_16")
    return Fixture(wav, len(audio) / SR, tuple(songs), tuple(segments), tuple(over_music))


def time_f1(truth, predicted, duration_s: float, step_s: float = 0.01) -> dict[str, float]:
    """Precision, recall and F1 of the time marked as song, on a ``step_s`` grid."""
    n = int(np.ceil(duration_s / step_s))
    t = np.zeros(n, dtype=bool)
    p = np.zeros(n, dtype=bool)
    for a, b in truth:
        t[int(a / step_s):int(b / step_s)] = True
    for a, b in predicted:
        p[int(a / step_s):int(b / step_s)] = True
    tp = float(np.sum(t & p))
    precision = tp / max(1.0, float(p.sum()))
    recall = tp / max(1.0, float(t.sum()))
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def transcript_for(fixture: Fixture, language: str = "en"):
    """A transcript whose segments are the fixture's spoken and sung lines."""
    from shared import schema

    segments = []
    for a, b, text in fixture.segments:
        words = text.split()
        step = (b - a) / max(1, len(words))
        segments.append(schema.Segment(a, b, " " + text, tuple(
            schema.Word(a + k * step, a + (k + 1) * step, " " + w, 0.9) for k, w in enumerate(words))))
    return schema.Transcript(language, 1.0, fixture.duration_s, tuple(segments))


def main(argv: list[str] | None = None) -> int:
    from shared import schema
    from shared.options.lyrics_detection import LyricsDetectionOptions
    from stages.lyrics_detection.stage import detect

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--folder", type=Path, default=REPO_ROOT / "bench" / "results" / "cache" / "lyrics")
    parser.add_argument("--smoke", action="store_true", help="one seed: proves the evaluation runs (make test)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.seeds = 1
    options = LyricsDetectionOptions()
    rows = []
    for seed in range(args.seeds):
        fixture = build_fixture(args.folder, seed)
        for mode in ("audio", "audio+transcript"):
            transcript = transcript_for(fixture) if mode != "audio" else schema.Transcript("en", 1.0, fixture.duration_s, ())
            started = time.perf_counter()
            regions, _ = detect(fixture.wav, transcript, options)
            wall = time.perf_counter() - started
            score = time_f1(fixture.songs, [(r.start_s, r.end_s) for r in regions], fixture.duration_s)
            rows.append({"seed": seed, "mode": mode, **score, "duration_s": round(fixture.duration_s, 1),
                         "wall_s": round(wall, 3), "truth": fixture.songs,
                         "found": [(round(r.start_s, 2), round(r.end_s, 2), round(r.confidence, 2)) for r in regions]})
            print(f"seed {seed} {mode:<17} F1 {score['f1']:.3f} (P {score['precision']:.3f} R {score['recall']:.3f}) "
                  f"in {wall:.2f} s for {fixture.duration_s:.0f} s of audio")
    summary = {mode: round(float(np.mean([r["f1"] for r in rows if r["mode"] == mode])), 4)
               for mode in ("audio", "audio+transcript")}
    print("mean F1:", summary)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"mean_f1": summary, "runs": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
