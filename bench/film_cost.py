"""A film's cost: the whole default graph on a film-like input, every stage's wall time and peak memory.

    python -m bench.film_cost [--minutes 60]     # an hour of film (issue #10's target input)
    python -m bench.film_cost --minutes 10       # shorter, same recipe
    python -m bench.film_cost --smoke            # 30 s, heavy stages skipped: proves the benchmark runs

The input is made from the generated film reels (bench/film_reels.py, docs/FILM.md):
the English ones in turn (music intro, dialogue in silence, under music at 10
and 5 dB, under rain, over a crowd, 80 s without speech, a sung passage, the
5.1 mix), cycled until the film is as long as asked, the last one cut. A film
has one audio layout, so the whole film is 5.1: the mono reels lie in the
centre channel (where a film mix keeps its dialogue), the surround reel keeps
its six channels. It is wrapped like the reels: AAC 48 kHz 5.1, a tiny black
H.264 track (160x90, 2 fps: cheap to decode, and the shots stage still reads
it), MP4. The German and the two offset reels are left out (one language;
the offset reels repeat dialogue-clean with a later audio start, which a
concatenation cannot keep). The made film is cached in
``bench/results/film_cost/`` by its recipe.

The run is the native runner (``python -m host.runner``) on a fresh job with
every stage the default settings run (diarization included; translation has
nothing to do without target languages): stage settings in the environment
are dropped, so a user's ``SKIP_STAGES`` or ``ASR_MODEL`` does not change the
figures. Printed per stage, from its lock: wall time (inside the stage
process: imports are not counted, model loading is), CPU time, peak memory
(the stage process or its largest child, e.g. ffmpeg) and its share of the
summed stage times; then the whole pipeline's real-time factor (the runner's
wall time over the film's length), and a ``targets`` block, ok or MISS per
line: RTF <= 0.25 and every stage <= 2 GB. The load average is sampled
through the run (the machines are shared), and since other work stretches the
wall time far more than the CPU time, the CPU time of the whole process tree
(wait4 on the runner counts every stage process and ffmpeg) is printed with
the real-time factor it allows at best on 2 free cores.

``--smoke`` runs 30 s of film made from the smoke reel, with pyannote-vad,
diarization and speakers skipped (the costly ones; the report is reached the
same way): its figures mean nothing.

Benchmarks report, they don't gate: a missed target prints MISS and exits 0;
the exit status is non-zero only when the runner failed. Results go to
``bench/results/film_cost.json`` (one key per mode).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.asr_overhead import fmt, format_table, progress, run_measured, save, say
from bench.audio_fixtures import REPO_ROOT, media_duration_s

RESULTS_DIR = REPO_ROOT / "bench" / "results"
RESULT_JSON = RESULTS_DIR / "film_cost.json"
WORK_DIR = RESULTS_DIR / "film_cost"
RECIPE_VERSION = 1
SR = 16000  # the reels' WAVs (bench/film_reels.py)
ENGLISH_REELS = ("intro-music", "dialogue-clean", "music-10db", "music-5db", "rain", "babble", "no-speech", "song",
                 "surround-5.1")
SMOKE_REELS = ("smoke",)
SMOKE_SECONDS = 30.0
SMOKE_SKIP = ("pyannote-vad", "diarization", "speakers")
CENTRE = 2  # FL FR FC LFE BL BR
CHANNELS = 6
VIDEO_SIZE = "160x90"
VIDEO_FPS = 2
AUDIO_BITRATE = "384k"
TARGET_RTF = 0.25  # a one-hour film in 15 minutes, 2 cores, CPU
CORES = 2  # the target's machine
STAGE_PEAK_LIMIT_MB = 2048.0
LOAD_SAMPLE_S = 15.0


# --- pure helpers ------------------------------------------------------------------------------


def plan_cycle(durations: Sequence[float], total_s: float) -> list[tuple[int, float, float]]:
    """The reels in turn until ``total_s``: (reel index, start on the film, seconds taken), the last one cut."""
    if not durations or any(d <= 0 for d in durations):
        raise ValueError("need at least one reel, each longer than zero")
    if total_s <= 0:
        raise ValueError("the film must be longer than zero")
    plan: list[tuple[int, float, float]] = []
    at, i = 0.0, 0
    while at < total_s - 1e-9:
        take = min(durations[i % len(durations)], total_s - at)
        plan.append((i % len(durations), round(at, 3), round(take, 3)))
        at += take
        i += 1
    return plan


def stage_rows(stages: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``stages`` with each one's ``share`` of the summed stage wall times (None for a stage that did not run)."""
    total = sum(s["wall_s"] or 0.0 for s in stages)
    return [{**s, "share": (s["wall_s"] / total) if s["wall_s"] is not None and total > 0 else None} for s in stages]


def cpu_floor(cpu_s: float | None, cores: int, film_s: float | None) -> float | None:
    """The real-time factor the pipeline's CPU time allows at best on ``cores`` free cores: a machine
    shared with other work stretches the wall time, much less the CPU time."""
    if cpu_s is None or not film_s or cores < 1:
        return None
    return round(cpu_s / cores / film_s, 4)


def targets(rtf: float | None, stages: Sequence[dict[str, Any]], rtf_max: float = TARGET_RTF,
            peak_max_mb: float = STAGE_PEAK_LIMIT_MB) -> list[dict[str, Any]]:
    """The issue's targets, one check each: the pipeline's RTF, then every stage that ran, its peak memory."""
    checks = [{"what": "whole pipeline real-time factor", "value": rtf, "limit": rtf_max,
               "ok": rtf is not None and rtf <= rtf_max}]
    for s in stages:
        if s["peak_rss_mb"] is not None:
            checks.append({"what": f"{s['stage']} peak memory MB", "value": s["peak_rss_mb"], "limit": peak_max_mb,
                           "ok": s["peak_rss_mb"] <= peak_max_mb})
    return checks


def target_line(check: dict[str, Any]) -> str:
    value, limit = check["value"], check["limit"]
    digits = 2 if limit < 10 else 0
    times = f"  ({value / limit:.2f}x the target)" if value is not None else ""
    return (f"  {'ok  ' if check['ok'] else 'MISS'} {check['what']:<40}{fmt(value, digits):>8}"
            f"  (target <= {limit:.{digits}f}){times}")


def runner_env(smoke: bool) -> dict[str, str]:
    """The environment with no stage setting of the user's (every stage's defaults), job-wide choices dropped."""
    from shared import graph

    settings = {env for spec in graph.STAGES for env in graph.settings_of(spec.name)}
    settings |= {"SKIP_STAGES", "FORCE_STAGES", "PARALLEL_STAGES", *graph.enabling_settings()}
    env = {k: v for k, v in os.environ.items() if k not in settings}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    if smoke:
        env["SKIP_STAGES"] = ",".join(SMOKE_SKIP)
    return env


# --- the input ---------------------------------------------------------------------------------


def _key(parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _as_51(audio: Any) -> Any:
    """A reel's samples (int16, mono or six channels) as six channels, a mono reel in the centre."""
    import numpy as np

    if audio.ndim == 2 and audio.shape[1] == CHANNELS:
        return audio
    if audio.ndim == 2:
        raise ValueError(f"a reel with {audio.shape[1]} channels: only mono and 5.1 are known here")
    out = np.zeros((len(audio), CHANNELS), dtype=np.int16)
    out[:, CENTRE] = audio
    return out


def film_video(seconds: float, smoke: bool, cache: Path = WORK_DIR) -> tuple[Path, dict[str, Any]]:
    """The film of ``seconds`` (made once, then cached by its recipe) and its description."""
    import soundfile

    from bench.film_reels import CACHE as REELS_DIR
    from bench.film_reels import build_reels

    names = SMOKE_REELS if smoke else ENGLISH_REELS
    progress("the reels (bench/film_reels.py; built once, about a minute)")
    reels = {r.name: r for r in build_reels(REELS_DIR, smoke=smoke)}
    wavs = [REELS_DIR / "sources" / f"{name}.wav" for name in names]
    for name, wav in zip(names, wavs):
        if name not in reels or not wav.is_file():
            raise SystemExit(f"error: reel {name} was not built ({wav} is missing)")
    stamp = [(w.name, w.stat().st_size, w.stat().st_mtime_ns) for w in wavs]
    key = _key([RECIPE_VERSION, stamp, seconds, VIDEO_SIZE, VIDEO_FPS, AUDIO_BITRATE])
    cache.mkdir(parents=True, exist_ok=True)
    out = cache / f"film-{int(seconds)}s-{key}.mp4"
    meta_path = out.with_suffix(".json")
    if out.is_file() and meta_path.is_file():
        return out, json.loads(meta_path.read_text())
    durations = [soundfile.info(str(w)).frames / SR for w in wavs]
    cycle = cache / f"cycle-{key}.wav"  # one pass of the reels, 5.1; ffmpeg loops it to the length
    with soundfile.SoundFile(str(cycle), "w", samplerate=SR, channels=CHANNELS, subtype="PCM_16") as f:
        for wav in wavs:
            audio, rate = soundfile.read(str(wav), dtype="int16")
            if rate != SR:
                raise SystemExit(f"error: {wav} is at {rate} Hz, not {SR}")
            f.write(_as_51(audio))
    progress(f"making {seconds / 60:.1f} min of film from {len(wavs)} reel(s) in turn")
    tmp = out.with_name(out.stem + ".partial.mp4")
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", f"color=c=black:s={VIDEO_SIZE}:r={VIDEO_FPS}",
                    "-stream_loop", "-1", "-channel_layout", "5.1", "-i", str(cycle),
                    "-t", f"{seconds:.3f}", "-map", "0:v", "-map", "1:a",
                    "-c:v", "libx264", "-preset", "ultrafast", "-tune", "stillimage", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-b:a", AUDIO_BITRATE, "-ar", "48000", "-metadata:s:a:0", "language=eng",
                    "-movflags", "+faststart", str(tmp)], check=True, capture_output=True)
    tmp.replace(out)
    cycle.unlink()
    plan = plan_cycle(durations, seconds)
    speech_s = sum(p.end_s - p.start_s for r in names for p in reels[r].passages)
    cycle_s = sum(durations)
    meta = {
        "path": str(out),
        "duration_s": round(media_duration_s(out), 3),
        "size_mb": round(out.stat().st_size / 2**20, 1),
        "reels": [{"name": n, "duration_s": round(d, 3)} for n, d in zip(names, durations)],
        "cycle_s": round(cycle_s, 3),
        "cycles": round(seconds / cycle_s, 2),
        "voiced_share": round(speech_s / cycle_s, 3),  # of one cycle: the passages' voiced extents
        "pieces": len(plan),
        "made": (f"the reels {', '.join(names)} in turn, cycled to {seconds:.0f} s (the last cut); 5.1 throughout "
                 f"(mono reels in the centre channel); AAC {AUDIO_BITRATE} 48 kHz, H.264 {VIDEO_SIZE} {VIDEO_FPS} fps "
                 "black, MP4"),
    }
    meta_path.write_text(json.dumps(meta, indent=2))
    return out, meta


# --- the run -----------------------------------------------------------------------------------


class LoadSampler:
    """The 1-minute load average every ``every_s`` while the run lasts (other work on a shared machine)."""

    def __init__(self, every_s: float = LOAD_SAMPLE_S) -> None:
        self.every_s = every_s
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.samples.append(round(os.getloadavg()[0], 2))

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_film(args: argparse.Namespace) -> dict[str, Any]:
    from shared.job import Job
    from shared.lock import read_lock

    seconds = SMOKE_SECONDS if args.smoke else args.minutes * 60.0
    video, meta = film_video(seconds, args.smoke)
    jobs_dir = WORK_DIR / "jobs"
    job_id = "film-smoke" if args.smoke else f"film-{int(seconds)}s"
    shutil.rmtree(jobs_dir / job_id, ignore_errors=True)  # a fresh job: every stage runs
    cmd = [sys.executable, "-m", "host.runner", str(video), "--jobs-dir", str(jobs_dir), "--job-id", job_id,
           "--force", "all"]
    log_path = WORK_DIR / "logs" / f"{job_id}-runner.log"
    env = runner_env(args.smoke)
    progress(f"running the whole graph on {meta['duration_s'] / 60:.1f} min of film (log {log_path})")
    load_before = [round(x, 2) for x in os.getloadavg()]
    with LoadSampler() as load:
        runner = run_measured(cmd, log_path, env)
    load_after = [round(x, 2) for x in os.getloadavg()]
    log_text = Path(runner.log).read_text(errors="replace")
    summary_path = jobs_dir / job_id / "summary.json"
    if not summary_path.is_file():
        raise SystemExit(f"error: the runner failed before the job's summary (exit status {runner.returncode}); "
                         f"log {runner.log}:\n{log_text[-3000:]}")
    summary = json.loads(summary_path.read_text())
    job = Job.open(job_id, jobs_dir)
    first_start = _first_start(job, summary)
    stages = []
    for entry in summary["stages"]:
        lock = read_lock(job.stage_dir(entry["stage"])) if entry["wall_s"] is not None else None
        t = lock.timings if lock else {}
        stages.append({"stage": entry["stage"], "status": entry["status"], "wall_s": entry["wall_s"],
                       "cpu_s": t.get("cpu_s"), "peak_rss_mb": entry["peak_rss_mb"],
                       "started_s": (round(t["started_at"] - first_start, 1)
                                     if t.get("started_at") and first_start else None)})
    stages = stage_rows(stages)
    duration_s = summary.get("duration_s") or meta["duration_s"]
    rtf = runner.wall_s / duration_s if duration_s else None
    checks = targets(rtf, stages)
    ran = [s for s in stages if s["wall_s"] is not None]
    worst = max(ran, key=lambda s: s["peak_rss_mb"] or 0.0) if ran else None
    return {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "mode": "smoke" if args.smoke else "film",
        "input": meta,
        "film_s": duration_s,
        "settings": {"graph": "every stage the defaults run" + (f", less {', '.join(SMOKE_SKIP)} (smoke)"
                                                                 if args.smoke else ""),
                     "skipped": SMOKE_SKIP if args.smoke else (), "cpus": os.cpu_count(),
                     "parallel": "the runner's default"},
        "job": {"id": job_id, "folder": str(job.root)},
        # wait4's CPU time of the runner counts its reaped descendants: every stage process and ffmpeg
        "runner": {"wall_s": runner.wall_s, "cpu_s_tree": runner.cpu_s, "returncode": runner.returncode,
                   "log": runner.log},
        "load": {"before": load_before, "after": load_after, "during": load.samples,
                 "during_mean": round(sum(load.samples) / len(load.samples), 2) if load.samples else None,
                 "during_max": max(load.samples) if load.samples else None},
        "stages": stages,
        "stage_wall_sum_s": round(sum(s["wall_s"] or 0.0 for s in stages), 3),
        "rtf": round(rtf, 4) if rtf is not None else None,
        "rtf_cpu_floor": cpu_floor(runner.cpu_s, CORES, duration_s),
        "max_stage": worst["stage"] if worst else None,
        "max_peak_rss_mb": worst["peak_rss_mb"] if worst else None,
        "targets": checks,
        "all_targets_met": all(c["ok"] for c in checks),
        "runner_error": log_text[-2000:] if runner.returncode != 0 else None,
    }


def _first_start(job: Any, summary: dict[str, Any]) -> float | None:
    from shared.lock import read_lock

    starts = [lock.timings.get("started_at") for s in summary["stages"] if s["wall_s"] is not None
              and (lock := read_lock(job.stage_dir(s["stage"]))) is not None]
    starts = [s for s in starts if s]
    return min(starts) if starts else None


def print_film(result: dict[str, Any]) -> None:
    inp, load = result["input"], result["load"]
    say(f"film_cost: {result['film_s'] / 60:.1f} min of film ({inp['size_mb']} MB, {inp['cycles']} cycle(s) of "
        f"{inp['cycle_s'] / 60:.1f} min, voiced {inp['voiced_share'] * 100:.0f} %)")
    say(f"  input: {inp['made']}")
    say(f"  graph: {result['settings']['graph']}; {result['settings']['cpus']} CPUs")
    say(f"  load average (1/5/15 min) before {'/'.join(map(str, load['before']))}, after "
        f"{'/'.join(map(str, load['after']))}; during (1 min, every {LOAD_SAMPLE_S:.0f} s) mean "
        f"{fmt(load['during_mean'], 2)} max {fmt(load['during_max'], 2)}")
    rows = [[s["stage"], s["status"], s["started_s"], s["wall_s"], s["cpu_s"], s["peak_rss_mb"],
             None if s["share"] is None else f"{s['share'] * 100:.1f} %"] for s in result["stages"]]
    say()
    say(format_table(["stage", "status", "start s", "wall s", "cpu s", "peak MB", "share"], rows))
    say("(from each stage's lock: wall inside the stage process, imports not counted, model loading counted; "
        "peak: the stage process or its largest child; share: of the summed stage walls "
        f"{result['stage_wall_sum_s']:.1f} s; stages run side by side, so the sum exceeds the pipeline's wall)")
    say(f"pipeline: {result['runner']['wall_s']:.1f} s wall (the runner, start to end) for "
        f"{result['film_s']:.1f} s of film: real-time factor {fmt(result['rtf'], 3)}")
    say(f"  CPU time of the whole process tree (the stages, ffmpeg, their imports) {result['runner']['cpu_s_tree']:.1f} s: "
        f"on {CORES} free cores the real-time factor would be at least {fmt(result['rtf_cpu_floor'], 3)}")
    if result["runner"]["returncode"] != 0:
        say(f"FAIL: the runner exited {result['runner']['returncode']}; log {result['runner']['log']}")
    say()
    say("targets (2 cores, CPU, default settings)")
    for check in result["targets"]:
        say(target_line(check))
    say()
    over = [c["what"].split()[0] for c in result["targets"][1:] if not c["ok"]]
    say(f"film_cost: RTF {fmt(result['rtf'], 3)} (target <= {TARGET_RTF:.2f}) "
        f"{'ok' if result['targets'][0]['ok'] else 'MISS'}; max stage peak {fmt(result['max_peak_rss_mb'], 0)} MB "
        f"({result['max_stage'] or '-'}) (target every stage <= {STAGE_PEAK_LIMIT_MB:.0f} MB) "
        f"{'MISS: ' + ', '.join(over) if over else 'ok'}")


# --- command line ------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.film_cost", description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=60.0, help="length of the film (default 60)")
    p.add_argument("--smoke", action="store_true",
                   help=f"{SMOKE_SECONDS:.0f} s of film, {', '.join(SMOKE_SKIP)} skipped: proves the benchmark runs "
                        "(make test), its figures mean nothing")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.minutes <= 0:
        raise SystemExit("error: --minutes must be more than 0")
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    result = run_film(args)
    save("smoke" if args.smoke else f"film-{args.minutes:g}min", result, RESULT_JSON)
    print_film(result)
    say(f"results: {RESULT_JSON.relative_to(REPO_ROOT)}")
    return 0 if result["runner"]["returncode"] == 0 else 1  # the figures of a broken run are no measurement


if __name__ == "__main__":
    sys.exit(main())
