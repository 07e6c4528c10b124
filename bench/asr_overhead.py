"""ASR overhead: our asr stage against bare faster-whisper, on the same real speech.

    python -m bench.asr_overhead [--rounds 2] [--speech-s 300]

Default mode. One WAV of at least five minutes of real speech (the eval clips
and flite sentences, see :mod:`bench.audio_fixtures`). The baseline is bare
faster-whisper in its own process (``python -c``, no project code):
WhisperModel on CPU int8, ``BatchedInferencePipeline.transcribe`` with batch
8, beam 5, word timestamps, its own VAD (``vad_filter=True``), language en;
every segment consumed. Ours is the ``asr`` stage process
(``python -m stages.asr --job ... --force``) on a job made from the same WAV,
after demux and silero-vad ran through their CLIs. Both are timed as whole
processes (wall time, CPU time, peak RSS from ``wait4``), interleaved bare,
ours, bare, ours for ``--rounds`` rounds; medians are compared. The target is
asr/bare <= 1.10; (silero-vad + asr)/bare is printed beside it, since the bare
run does its own VAD inside.

Every stage's wall time and peak memory on a whole film is bench/film_cost.py
(it replaced this module's ``--hour`` mode, which looped this speech to an hour).

Benchmarks report, they don't gate: the exit status is 0 when the targets are
missed (FAIL is printed), and non-zero only when something could not run.
Results go to ``bench/results/asr_overhead.json`` (one key per mode: full, smoke).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "bench" / "results"
RESULT_JSON = RESULTS_DIR / "asr_overhead.json"
WORK_DIR = RESULTS_DIR / "asr_overhead"
TARGET_RATIO = 1.10
STAGE_ENV_PREFIXES = ("ASR_", "VAD_", "SILERO_", "SUBTITLE_", "MUX_", "DEMUX_")

# The baseline: bare faster-whisper, nothing of this project imported.
BARE_SCRIPT = r"""
import json, sys
from faster_whisper import BatchedInferencePipeline, WhisperModel
audio, model_path, out, batch_size, beam_size = sys.argv[1:6]
model = WhisperModel(model_path, device="cpu", compute_type="int8", local_files_only=True)
pipeline = BatchedInferencePipeline(model=model)
segments, info = pipeline.transcribe(audio, language="en", batch_size=int(batch_size), beam_size=int(beam_size),
                                     word_timestamps=True, vad_filter=True)
texts, words = [], 0
for seg in segments:
    texts.append(seg.text.strip())
    words += len(seg.words or ())
with open(out, "w") as f:
    json.dump({"text": " ".join(texts), "segments": len(texts), "words": words,
               "duration_s": info.duration, "duration_after_vad_s": info.duration_after_vad}, f)
"""


# --- pure helpers ------------------------------------------------------------------------------


def median(values: Iterable[float | None]) -> float | None:
    """Median of the values that are not None; None when there are none."""
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


def verdict(value: float | None, limit: float) -> str:
    """PASS when ``value <= limit``, FAIL above it, n/a when there is no value."""
    if value is None:
        return "n/a"
    return "PASS" if value <= limit else "FAIL"


def fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], digits: int = 1) -> str:
    """A plain text table: first column left-aligned, the others right-aligned."""
    cells = [[str(h) for h in headers]] + [[fmt(c, digits) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        parts = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        lines.append("  ".join(parts).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def ratio_line(name: str, value: float | None, target: float = TARGET_RATIO) -> str:
    return f"{name}: ratio {fmt(value, 2)} (target <= {target:.2f}) {verdict(value, target)}"


# --- measuring a process -----------------------------------------------------------------------


@dataclass
class Measured:
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    returncode: int
    log: str
    load_before: float | None = None


def run_measured(cmd: list[str], log_path: Path, env: dict[str, str] | None = None) -> Measured:
    """Run ``cmd`` to completion; its wall time, CPU time and peak RSS (from wait4, this child only),
    and the 1-minute load average just before it started (other work on a shared machine)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    load_before = round(os.getloadavg()[0], 2)
    with open(log_path, "wb") as log:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO_ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall_s = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Measured(round(wall_s, 3), round(usage.ru_utime + usage.ru_stime, 3), round(usage.ru_maxrss / 1024, 1),
                    proc.returncode, str(log_path), load_before)


def check(measured: Measured, what: str) -> Measured:
    if measured.returncode != 0:
        tail = Path(measured.log).read_text(errors="replace")[-3000:]
        raise SystemExit(f"error: {what} failed with exit status {measured.returncode}; log {measured.log}:\n{tail}")
    return measured


def stage_env() -> dict[str, str]:
    """The environment as a user's, without stage settings that would change the comparison."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(STAGE_ENV_PREFIXES)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    return env


def stage_available(name: str) -> bool:
    from shared import graph

    return importlib.util.find_spec(graph.stage(name).module) is not None


def say(text: str = "") -> None:
    print(text, flush=True)


def progress(text: str) -> None:
    print(f"  .. {text}", file=sys.stderr, flush=True)


# --- the overhead comparison -------------------------------------------------------------------


def transcript_text(path: Path) -> tuple[str, int, int]:
    data = json.loads(path.read_text())
    segments = data.get("segments", [])
    text = " ".join(s["text"].strip() for s in segments).strip()
    return text, len(segments), sum(len(s.get("words", [])) for s in segments)


def warm_up(model_path: Path, env: dict[str, str]) -> None:
    """Untimed: the model files into the page cache and the heavy imports compiled, so round 1 is not cold."""
    for path in sorted(model_path.rglob("*")):
        if path.is_file():
            with open(path, "rb") as f:
                while f.read(1 << 24):
                    pass
    subprocess.run([sys.executable, "-c", "import faster_whisper, ctranslate2, onnxruntime, soundfile"],
                   env=env, cwd=REPO_ROOT, check=False)


def prepare_job(wav: Path, jobs_dir: Path, env: dict[str, str], logs: Path) -> tuple[Any, dict[str, Any]]:
    """A job on ``wav`` with demux done (through its CLI when the stage exists)."""
    from host.jobs import create_job

    job = create_job(wav, jobs_dir=jobs_dir)
    info: dict[str, Any] = {"job": job.id, "jobs_dir": str(jobs_dir)}
    info["demux"] = None
    if stage_available("demux"):
        m = run_measured([sys.executable, "-m", "stages.demux", "--job", job.id, "--jobs-dir", str(jobs_dir),
                          "--force"],
                         logs / "demux.log", env)
        info["demux"] = asdict(m)
        if m.returncode == 0:
            return job, info
        why = f"the demux stage failed (exit status {m.returncode}, log {m.log})"
    else:
        why = "stages.demux is not available"
    # demux is not part of the comparison, and the WAV is already 16 kHz mono PCM: what demux would write.
    target = job.artifact_path("audio")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(wav, target)
    info["note"] = f"{why}: the WAV was copied into demux/audio.wav instead"
    progress(info["note"])
    return job, info


def run_overhead(args: argparse.Namespace) -> dict[str, Any]:
    from bench.audio_fixtures import speech_wav
    from bench.metrics import word_error_rate
    from shared.models import resolve_whisper

    # the bare baseline has no prompt, so ours runs without pre-ner's (asr would otherwise wait for it)
    env = {**stage_env(), "SKIP_STAGES": "pre-ner"}
    logs = WORK_DIR / "logs"
    flite = () if args.no_flite else None
    progress(f"making >= {args.speech_s:.0f} s of speech")
    wav, wav_meta = speech_wav(args.speech_s, **({"flite_texts": flite} if flite is not None else {}))
    model = resolve_whisper(args.model)
    if not stage_available("silero-vad"):
        raise SystemExit("error: stages.silero_vad is not available yet; the asr stage needs its speech regions")
    jobs_dir = args.jobs_dir or WORK_DIR / "jobs"
    job, job_info = prepare_job(wav, jobs_dir, env, logs)
    if not args.no_warmup:
        progress("warming up (untimed): model files, imports")
        warm_up(Path(model.path), env)

    stage_args = ["--job", job.id, "--jobs-dir", str(jobs_dir), "--force"]
    asr_flags = ["--model", args.model, "--device", "cpu", "--compute-type", "int8", "--language", "en",
                 "--batch-size", str(args.batch_size), "--beam-size", str(args.beam_size)]
    rounds: list[dict[str, Any]] = []
    texts: dict[str, list[str]] = {"bare": [], "ours": []}
    counts: dict[str, tuple[int, int]] = {}
    for r in range(1, args.rounds + 1):
        out = WORK_DIR / f"bare-round{r}.json"
        bare_cmd = [sys.executable, "-c", BARE_SCRIPT, str(wav), model.path, str(out),
                    str(args.batch_size), str(args.beam_size)]
        progress(f"round {r}/{args.rounds}: bare faster-whisper")
        bare = check(run_measured(bare_cmd, logs / f"bare-round{r}.log", env), "bare faster-whisper")
        bare_result = json.loads(out.read_text())
        texts["bare"].append(bare_result["text"])
        counts["bare"] = (bare_result["segments"], bare_result["words"])
        progress(f"round {r}/{args.rounds}: ours silero-vad + asr  (bare took {bare.wall_s:.1f} s)")
        vad = check(run_measured([sys.executable, "-m", "stages.silero_vad", *stage_args],
                                 logs / f"silero-vad-round{r}.log", env), "silero-vad stage")
        asr = check(run_measured([sys.executable, "-m", "stages.asr", *stage_args, *asr_flags],
                                 logs / f"asr-round{r}.log", env), "asr stage")
        text, n_seg, n_words = transcript_text(job.artifact_path("transcript"))
        texts["ours"].append(text)
        counts["ours"] = (n_seg, n_words)
        rounds.append({"round": r, "bare": asdict(bare), "silero_vad": asdict(vad), "asr": asdict(asr),
                       "ratio_asr": ratio(asr.wall_s, bare.wall_s),
                       "ratio_vad_asr": ratio(vad.wall_s + asr.wall_s, bare.wall_s)})
        progress(f"round {r}/{args.rounds}: silero-vad {vad.wall_s:.1f} s, asr {asr.wall_s:.1f} s")

    metrics = ("wall_s", "cpu_s", "peak_rss_mb", "load_before")
    med = {key: {m: median(rd[key][m] for rd in rounds) for m in metrics} for key in ("bare", "silero_vad", "asr")}
    best = {key: {m: min(rd[key][m] for rd in rounds) for m in ("wall_s", "cpu_s")} for key in ("bare", "asr")}
    vad_asr_wall = median(rd["silero_vad"]["wall_s"] + rd["asr"]["wall_s"] for rd in rounds)
    result = {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "input": wav_meta,
        "model": {"name": args.model, "path": model.path, "source": model.source, "revision": model.revision},
        "settings": {"device": "cpu", "compute_type": "int8", "batch_size": args.batch_size,
                     "beam_size": args.beam_size, "language": "en", "word_timestamps": True,
                     "bare_vad": "faster-whisper vad_filter=True (its own Silero)",
                     "bare_audio": "path passed to transcribe (faster_whisper.decode_audio)",
                     "ours_vad": "silero-vad stage speech regions -> clip_timestamps",
                     "rounds": args.rounds, "order": "bare, ours (silero-vad, asr) per round",
                     "cpus": os.cpu_count(), "warmup": not args.no_warmup},
        "job": job_info,
        "rounds": rounds,
        "median": med,
        "ratio_asr_over_bare": ratio(med["asr"]["wall_s"], med["bare"]["wall_s"]),
        "ratio_vad_plus_asr_over_bare": ratio(vad_asr_wall, med["bare"]["wall_s"]),
        "ratio_peak_rss_asr_over_bare": ratio(med["asr"]["peak_rss_mb"], med["bare"]["peak_rss_mb"]),
        "best": best,
        "ratio_asr_over_bare_best_wall": ratio(best["asr"]["wall_s"], best["bare"]["wall_s"]),
        "ratio_asr_over_bare_cpu": ratio(med["asr"]["cpu_s"], med["bare"]["cpu_s"]),
        "wer_ours_against_bare": word_error_rate(texts["bare"][-1], texts["ours"][-1]),
        "wer_bare_against_ours": word_error_rate(texts["ours"][-1], texts["bare"][-1]),
        "texts_stable_across_rounds": {k: len(set(v)) == 1 for k, v in texts.items()},
        "segments_words": {k: {"segments": v[0], "words": v[1]} for k, v in counts.items()},
        "target": {"ratio_asr_over_bare_max": TARGET_RATIO},
    }
    result["verdict"] = verdict(result["ratio_asr_over_bare"], TARGET_RATIO)
    return result


def print_overhead(result: dict[str, Any]) -> None:
    inp, st, rounds, med = result["input"], result["settings"], result["rounds"], result["median"]
    say(f"asr_overhead: {inp['duration_s'] / 60:.1f} min input, {inp['speech_clips_s'] / 60:.1f} min of speech clips "
        f"({inp['eval_s']:.0f} s eval clips, {inp['flite_s']:.0f} s flite)")
    say(f"  input: {inp['description']}")
    say(f"  model {result['model']['name']} ({result['model']['source']}), {st['device']} {st['compute_type']}, "
        f"batch {st['batch_size']}, beam {st['beam_size']}, {st['cpus']} CPUs, {st['rounds']} round(s): {st['order']}")
    if result["job"].get("note"):
        say(f"  note: {result['job']['note']}")
    headers = ["", *[f"round {rd['round']}" for rd in rounds], "median"]

    def row(label: str, key: str, metric: str) -> list[Any]:
        return [label, *[rd[key][metric] for rd in rounds], med[key][metric]]

    rows = [
        row("bare faster-whisper wall s", "bare", "wall_s"),
        row("ours asr wall s", "asr", "wall_s"),
        row("ours silero-vad wall s", "silero_vad", "wall_s"),
        row("bare cpu s", "bare", "cpu_s"),
        row("ours asr cpu s", "asr", "cpu_s"),
        row("ours silero-vad cpu s", "silero_vad", "cpu_s"),
        row("bare peak RSS MB", "bare", "peak_rss_mb"),
        row("ours asr peak RSS MB", "asr", "peak_rss_mb"),
        row("ours silero-vad peak RSS MB", "silero_vad", "peak_rss_mb"),
        row("load avg before bare", "bare", "load_before"),
        row("load avg before ours asr", "asr", "load_before"),
    ]
    say()
    say(format_table(headers, rows))
    say()
    per_round = lambda key: ", ".join(fmt(rd[key], 2) for rd in rounds)  # noqa: E731
    say(f"ratio asr/bare (wall, medians)            {fmt(result['ratio_asr_over_bare'], 2)}"
        f"   per round: {per_round('ratio_asr')}")
    say(f"ratio (silero-vad + asr)/bare (wall)      {fmt(result['ratio_vad_plus_asr_over_bare'], 2)}"
        f"   per round: {per_round('ratio_vad_asr')}")
    say(f"ratio peak RSS asr/bare                   {fmt(result['ratio_peak_rss_asr_over_bare'], 2)}")
    say(f"for context (noise): asr/bare best-of-{len(rounds)} wall {fmt(result['ratio_asr_over_bare_best_wall'], 2)}, "
        f"asr/bare CPU time (medians) {fmt(result['ratio_asr_over_bare_cpu'], 2)}")
    sw = result["segments_words"]
    say(f"WER ours against bare {result['wer_ours_against_bare']:.3f}, bare against ours "
        f"{result['wer_bare_against_ours']:.3f}  (words: bare {sw['bare']['words']}, ours {sw['ours']['words']}; "
        f"segments: bare {sw['bare']['segments']}, ours {sw['ours']['segments']})")
    unstable = [k for k, stable in result["texts_stable_across_rounds"].items() if not stable]
    if unstable:
        say(f"note: the text of {', '.join(unstable)} differed between rounds")
    say()
    say(ratio_line("asr_overhead", result["ratio_asr_over_bare"]))


# --- command line ------------------------------------------------------------------------------


def save(key: str, result: dict[str, Any], path: Path = RESULT_JSON) -> None:
    """Store ``result`` under ``key``, keeping the other mode's last result."""
    data: dict[str, Any] = {}
    if path.is_file():
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError:
            data = {}
    data[key] = result
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    tmp.replace(path)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.asr_overhead", description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=2, help="rounds of (bare, ours); medians are compared (default 2)")
    p.add_argument("--speech-s", type=float, default=300.0, help="seconds of speech in the input (default 300)")
    p.add_argument("--model", default="tiny.en", help="ASR model, resolved as the stage resolves it (default tiny.en)")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--beam-size", type=int, default=5)
    p.add_argument("--no-flite", action="store_true", help="only the eval clips, no flite sentences")
    p.add_argument("--no-warmup", action="store_true", help="skip the untimed warm-up")
    p.add_argument("--jobs-dir", type=Path, default=None,
                   help=f"jobs folder (default {WORK_DIR.relative_to(REPO_ROOT)}/jobs)")
    p.add_argument("--smoke", action="store_true",
                   help="a few seconds of input, one round, no warm-up: proves the benchmark runs (make test), "
                        "its figures mean nothing")
    return p


SMOKE = {"rounds": 1, "speech_s": 12.0, "no_warmup": True, "no_flite": True}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.smoke:
        for key, value in SMOKE.items():
            setattr(args, key, value)
    if args.rounds < 1:
        raise SystemExit("error: --rounds must be at least 1")
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    suffix = "-smoke" if args.smoke else ""
    result = run_overhead(args)
    save("overhead" + suffix, result)
    print_overhead(result)
    say(f"results: {RESULT_JSON.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
