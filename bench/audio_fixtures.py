"""Benchmark inputs made from real speech: the eval clips and flite voices.

Everything is 16 kHz mono. Inputs are cached under ``bench/results/cache``
(gitignored) by a key of their recipe, so a rerun reuses them.

* :func:`speech_wav`: at least N seconds of speech, made by concatenating the
  English eval clips and a few flite sentences (two voices), with short
  silences between clips, repeated until long enough.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
EVAL_DATA = REPO_ROOT.parent / "shared" / "eval-data"
CACHE_DIR = REPO_ROOT / "bench" / "results" / "cache"
SAMPLE_RATE_HZ = 16000
RECIPE_VERSION = 1

# English clips only: the default model is English-only (tiny.en); multilingual.mp3 is half German.
EVAL_CLIPS = ("jfk.flac", "sample.wav", "stereo_diarization.wav", "hotwords.mp3")

# Our own sentences, spoken by flite, so the input is not only the same four clips over again.
FLITE_TEXTS = (
    ("slt", "The harbour was quiet that morning. A few boats came in with the tide, and the fishermen "
            "carried their nets up the stone steps to the market, where the first buyers were already waiting."),
    ("rms", "Please check the schedule before you leave. The last train to the city departs at eleven "
            "forty, and on Sundays there is no service after ten in the evening."),
    ("slt", "She opened the letter slowly, read the first line twice, and then put it back on the table "
            "without a word. Outside, the rain had started again."),
    ("rms", "The committee will meet on Thursday to review the budget. Every department should send its "
            "figures by Tuesday noon, so that the numbers can be checked in time."),
)


@dataclass(frozen=True)
class Clip:
    """One source of speech, converted to 16 kHz mono."""

    label: str  # "eval:jfk.flac" or "flite:slt:0"
    path: Path
    duration_s: float


def plan_sequence(durations: list[float], target_speech_s: float) -> list[int]:
    """Indices into ``durations``, cycling in order, until their sum reaches ``target_speech_s``.

    At least one full cycle is always taken, so every source appears at least once.
    """
    if not durations or any(d <= 0 for d in durations):
        raise ValueError("need at least one clip, each longer than zero")
    order: list[int] = []
    total = 0.0
    i = 0
    while total < target_speech_s or len(order) < len(durations):
        order.append(i % len(durations))
        total += durations[i % len(durations)]
        i += 1
    return order


def gap_after(position: int, gap_s: float, long_gap_s: float, long_every: int) -> float:
    """Silence after the ``position``-th clip: ``long_gap_s`` after every ``long_every``-th one."""
    return long_gap_s if long_every and (position + 1) % long_every == 0 else gap_s


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-2000:]}")


def to_16k_mono(src: Path, dst: Path) -> None:
    """Any audio file to 16 kHz mono 16-bit PCM WAV (ffmpeg downmixes stereo by averaging)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(dst.name + ".partial.wav")
    _run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(src),
          "-vn", "-ac", "1", "-ar", str(SAMPLE_RATE_HZ), "-c:a", "pcm_s16le", str(tmp)])
    tmp.replace(dst)


def wav_duration_s(path: Path) -> float:
    import soundfile

    info = soundfile.info(str(path))
    return info.frames / info.samplerate


def _recipe_key(parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:12]


def prepare_clips(cache: Path, eval_data: Path = EVAL_DATA, clips: tuple[str, ...] = EVAL_CLIPS,
                  flite_texts: tuple[tuple[str, str], ...] = FLITE_TEXTS) -> list[Clip]:
    """Every source converted once to 16 kHz mono WAV in ``cache/clips``."""
    folder = cache / "clips"
    out: list[Clip] = []
    for name in clips:
        src = eval_data / name
        if not src.is_file():
            raise FileNotFoundError(f"eval clip not found: {src} (the team's shared folder beside the repo)")
        dst = folder / f"eval-{Path(name).stem}-{_recipe_key([name, src.stat().st_size])}.wav"
        if not dst.is_file():
            to_16k_mono(src, dst)
        out.append(Clip(f"eval:{name}", dst, wav_duration_s(dst)))
    if flite_texts and shutil.which("flite") is None:
        raise FileNotFoundError("flite is not installed (apt-get install flite), or pass flite_texts=()")
    for i, (voice, text) in enumerate(flite_texts):
        dst = folder / f"flite-{voice}-{_recipe_key([voice, text])}.wav"
        if not dst.is_file():
            raw = dst.with_name(dst.name + ".raw.wav")
            _run(["flite", "-voice", voice, "-t", text, "-o", str(raw)])
            to_16k_mono(raw, dst)
            raw.unlink()
        out.append(Clip(f"flite:{voice}:{i}", dst, wav_duration_s(dst)))
    return out


def speech_wav(target_speech_s: float = 300.0, cache: Path = CACHE_DIR, *, gap_s: float = 0.6,
               long_gap_s: float = 2.0, long_every: int = 4, eval_data: Path = EVAL_DATA,
               clips: tuple[str, ...] = EVAL_CLIPS,
               flite_texts: tuple[tuple[str, str], ...] = FLITE_TEXTS) -> tuple[Path, dict]:
    """A 16 kHz mono WAV with at least ``target_speech_s`` of speech; returns it and its description."""
    import numpy as np
    import soundfile

    sources = prepare_clips(cache, eval_data, clips, flite_texts)
    key = _recipe_key([RECIPE_VERSION, target_speech_s, gap_s, long_gap_s, long_every,
                       [(c.label, c.path.name) for c in sources]])
    out = cache / f"speech-{int(target_speech_s)}s-{key}.wav"
    meta_path = out.with_suffix(".json")
    if out.is_file() and meta_path.is_file():
        return out, json.loads(meta_path.read_text())
    order = plan_sequence([c.duration_s for c in sources], target_speech_s)
    pieces = []
    for position, index in enumerate(order):
        audio, rate = soundfile.read(str(sources[index].path), dtype="int16", always_2d=False)
        assert rate == SAMPLE_RATE_HZ and audio.ndim == 1, sources[index]
        pieces.append(audio)
        pieces.append(np.zeros(int(gap_after(position, gap_s, long_gap_s, long_every) * SAMPLE_RATE_HZ), np.int16))
    samples = np.concatenate(pieces)
    tmp = out.with_name(out.name + ".partial.wav")
    soundfile.write(str(tmp), samples, SAMPLE_RATE_HZ, subtype="PCM_16")
    tmp.replace(out)
    speech_s = sum(sources[i].duration_s for i in order)
    counts: dict[str, int] = {}
    for i in order:
        counts[sources[i].label] = counts.get(sources[i].label, 0) + 1
    meta = {
        "path": str(out),
        "duration_s": round(len(samples) / SAMPLE_RATE_HZ, 3),
        "speech_clips_s": round(speech_s, 3),
        "clips": len(order),
        "made_of": counts,
        "eval_s": round(sum(sources[i].duration_s for i in order if sources[i].label.startswith("eval:")), 3),
        "flite_s": round(sum(sources[i].duration_s for i in order if sources[i].label.startswith("flite:")), 3),
        "gap_s": gap_s,
        "long_gap_s": long_gap_s,
        "description": ("real speech: the English eval clips (" + ", ".join(clips) + ") converted to 16 kHz mono"
                        + (" and flite sentences (voices " + ", ".join(sorted({v for v, _ in flite_texts})) + ")"
                           if flite_texts else "")
                        + f", concatenated in turn with {gap_s:g} s silences ({long_gap_s:g} s every {long_every})"
                        + " and repeated until long enough"),
    }
    meta_path.write_text(json.dumps(meta, indent=2))
    return out, meta


def media_duration_s(path: Path) -> float:
    proc = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
                          capture_output=True, text=True, check=True)
    return float(proc.stdout.strip())
