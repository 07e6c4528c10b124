"""Diarization speed on CPU, side-by-side running, and our ASR path against whisperx's.

    python -m bench.diarization_speed [--seconds 180] [--repeats 3] [--rounds 2] [--json PATH] [--smoke]

Prints, measured in the same run on the same machine:

1. **Diarization real-time factor** of the embedded pipeline on
   ``sample.wav`` (30 s), with its DER, at the default window step and at
   pyannote's own step (0.1, the recipe's): model loading excluded, the
   fastest of ``--repeats`` runs after a warm-up. Target: RTF <= 0.10 at the
   same DER.
2. **Side by side**: the ``asr`` and ``diarization`` stages as processes
   (``python -m stages.<name> --force``, exactly as the runner starts them)
   on a job made from ``--seconds`` of speech, one after the other, then
   both at once: the speed-up is sequential wall time / concurrent wall time.
3. **Our ASR path against whisperx's**: ``silero-vad`` then ``asr`` (two
   processes) against one process running ``whisperx.load_model(<the same
   tiny.en CT2 folder>, device="cpu", compute_type="int8", language="en")``
   and ``transcribe`` (its pyannote VAD and batched ASR, batch 8), each
   timed as whole processes. Target: ours <= 0.5 x whisperx.

The speech input is ``bench.audio_fixtures.speech_wav`` (the eval clips and
flite voices), cached under ``bench/results/cache``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
RTF_TARGET = 0.10
ASR_RATIO_TARGET = 0.5
OFF = "pre-ner,post-ner,translation,second-pass-translation,lyrics-detection,pyannote-vad,speakers"

WHISPERX_SCRIPT = """
import sys, time, warnings
warnings.filterwarnings("ignore")
import whisperx
model = whisperx.load_model(sys.argv[1], device="cpu", compute_type="int8", language="en")
audio = whisperx.load_audio(sys.argv[2])
result = model.transcribe(audio, batch_size=8)
print("WORDS", sum(len(s["text"].split()) for s in result["segments"]))
"""


def say(text: str = "") -> None:
    print(text, flush=True)


def stage_env() -> dict[str, str]:
    from shared.offline import offline_environment

    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASR_", "VAD_", "DIARIZATION_", "SUBTITLE_"))}
    env.update(offline_environment())
    env.update({"PYTHONPATH": str(REPO_ROOT), "LOG_FORMAT": "human", "SKIP_STAGES": OFF})
    return env


# --- 1. real-time factor ------------------------------------------------------------------------


def diarization_rtf(steps: list[float], repeats: int) -> list[dict[str, Any]]:
    from bench.eval_speakers import EVAL_DATA, diarization_error_rate
    from shared.audio import AudioFile
    from shared.options.diarization import DiarizationOptions
    from shared.speakers import parse_rttm
    from stages.diarization import pipeline as pipelines
    from stages.diarization.turns import sort_turns

    wav = AudioFile(EVAL_DATA / "sample.wav")
    duration_s = wav.duration_s
    reference = parse_rttm((EVAL_DATA / "sample.rttm").read_text())["sample"]
    rows = []
    for step in steps:
        options = DiarizationOptions(segmentation_step=step)
        pipeline = pipelines.load(pipelines.choose(options), options, "cpu")
        pipelines.diarize(pipeline, wav, {})  # warm-up
        times, cpu, turns = [], [], []
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            turns, _ = pipelines.diarize(pipeline, wav, {})
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        der = diarization_error_rate(reference, sort_turns(turns))["der"]
        rows.append({"segmentation_step": step, "seconds": round(min(times), 3), "rtf": round(min(times) / duration_s, 4),
                     "cpu_seconds": round(min(cpu), 3), "der": round(der, 4), "all_seconds": [round(t, 3) for t in times]})
    wav.close()
    return rows


# --- 2. side by side --------------------------------------------------------------------------------


def prepare_job(wav: Path, jobs_dir: Path, env: dict[str, str]) -> str:
    from host.jobs import create_job

    job = create_job(wav, jobs_dir=jobs_dir, job_id="speed")
    for stage in ("demux", "silero-vad"):
        run_stage(stage, job.id, jobs_dir, env, force=False)
    return job.id


def stage_cmd(stage: str, job_id: str, jobs_dir: Path, force: bool = True) -> list[str]:
    cmd = [sys.executable, "-m", "stages." + stage.replace("-", "_"), "--job", job_id, "--jobs-dir", str(jobs_dir)]
    return cmd + (["--force"] if force else [])


def run_stage(stage: str, job_id: str, jobs_dir: Path, env: dict[str, str], force: bool = True) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(stage_cmd(stage, job_id, jobs_dir, force), cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"error: stage {stage} failed: {done.stderr.strip().splitlines()[-1:]}")
    return time.perf_counter() - t0


def concurrently(stages: tuple[str, ...], job_id: str, jobs_dir: Path, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    procs = [subprocess.Popen(stage_cmd(s, job_id, jobs_dir), cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True) for s in stages]
    for p in procs:
        _, err = p.communicate()
        if p.returncode != 0:
            raise SystemExit(f"error: concurrent stage failed: {err.strip().splitlines()[-1:]}")
    return time.perf_counter() - t0


def side_by_side(job_id: str, jobs_dir: Path, env: dict[str, str], rounds: int) -> dict[str, Any]:
    """Each way ``rounds`` times, interleaved (so a busy spell on the machine hits both); fastest kept."""
    from shared import joblock

    asr, diar, together = [], [], []
    # as a runner does: hold the job lock and let the stages work under it (side by side they
    # would refuse each other), by the token the containers use (shared/joblock.py)
    with joblock.acquire(jobs_dir / job_id, job_id) as held:
        env = {**env, joblock.TOKEN_ENV: held.token}
        for _ in range(rounds):
            asr.append(run_stage("asr", job_id, jobs_dir, env))
            diar.append(run_stage("diarization", job_id, jobs_dir, env))
            together.append(concurrently(("asr", "diarization"), job_id, jobs_dir, env))
    asr_s, diar_s, together_s = min(asr), min(diar), min(together)
    return {"asr_s": round(asr_s, 2), "diarization_s": round(diar_s, 2), "sequential_s": round(asr_s + diar_s, 2),
            "concurrent_s": round(together_s, 2), "speedup": round((asr_s + diar_s) / together_s, 3),
            "all": {"asr": [round(t, 2) for t in asr], "diarization": [round(t, 2) for t in diar],
                    "concurrent": [round(t, 2) for t in together]}}


# --- 3. our ASR path against whisperx's -----------------------------------------------------------


def ours_vs_whisperx(job_id: str, jobs_dir: Path, wav: Path, env: dict[str, str], rounds: int) -> dict[str, Any]:
    from shared.models import resolve_whisper

    model = resolve_whisper("tiny.en").path
    ours, theirs = [], []
    for _ in range(rounds):  # interleaved, fastest kept
        ours.append(run_stage("silero-vad", job_id, jobs_dir, env) + run_stage("asr", job_id, jobs_dir, env))
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", WHISPERX_SCRIPT, model, str(wav)], cwd=REPO_ROOT, env=env,
                              capture_output=True, text=True)
        theirs.append(time.perf_counter() - t0)
        if done.returncode != 0:
            raise SystemExit(f"error: whisperx transcribe failed: {done.stderr.strip().splitlines()[-1:]}")
    segments = len(json.loads((jobs_dir / job_id / "asr" / "transcript.json").read_text())["segments"])
    return {"ours_s": round(min(ours), 2), "whisperx_s": round(min(theirs), 2), "ratio": round(min(ours) / min(theirs), 3),
            "our_segments": segments, "model": model,
            "all": {"ours": [round(t, 2) for t in ours], "whisperx": [round(t, 2) for t in theirs]}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.diarization_speed", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0, help="speech in the side-by-side and ASR input")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per step for the RTF (fastest kept)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of the process comparisons (fastest kept)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--smoke", action="store_true",
                        help="15 s of speech, one run of each: proves the benchmark runs (make test), its figures mean nothing")
    args = parser.parse_args(argv)
    if args.smoke:
        args.seconds, args.repeats, args.rounds = 15.0, 1, 1
    from shared.offline import apply_offline_environment

    apply_offline_environment()
    from bench.audio_fixtures import speech_wav
    from shared.options.diarization import DiarizationOptions

    results: dict[str, Any] = {"cpu_count": os.cpu_count()}
    default_step = DiarizationOptions().segmentation_step
    say(f"1. diarization on sample.wav (30 s), CPU, {os.cpu_count()} cores, fastest of {args.repeats}")
    steps = [default_step] if args.smoke else sorted({default_step, 0.1}, reverse=True)
    results["rtf"] = diarization_rtf(steps, args.repeats)
    for row in results["rtf"]:
        mark = "default" if row["segmentation_step"] == default_step else "pyannote's step"
        verdict = "ok" if row["rtf"] <= RTF_TARGET else f"above {RTF_TARGET}"
        say(f"   step {row['segmentation_step']:.2f} ({mark}): {row['seconds']:.2f} s ({row['cpu_seconds']:.2f} s CPU), "
            f"RTF {row['rtf']:.3f} ({verdict}), DER {row['der'] * 100:.2f} %")
    wav, meta = speech_wav(args.seconds, **({"clips": ("jfk.flac",), "flite_texts": ()} if args.smoke else {}))
    with tempfile.TemporaryDirectory(prefix="diarization-speed-") as tmp:
        jobs_dir = Path(tmp)
        env = stage_env()
        job_id = prepare_job(wav, jobs_dir, env)
        say(f"2. asr and diarization as processes on {meta.get('duration_s', args.seconds):.0f} s of audio")
        results["side_by_side"] = sbs = side_by_side(job_id, jobs_dir, env, args.rounds)
        say(f"   one after the other {sbs['sequential_s']:.1f} s (asr {sbs['asr_s']:.1f}, diarization "
            f"{sbs['diarization_s']:.1f}); side by side {sbs['concurrent_s']:.1f} s: speed-up {sbs['speedup']:.2f}x")
        say("3. silero-vad + asr (processes) against whisperx's transcribe (one process), tiny.en int8")
        results["asr_vs_whisperx"] = cmp = ours_vs_whisperx(job_id, jobs_dir, wav, env, args.rounds)
        verdict = "ok" if cmp["ratio"] <= ASR_RATIO_TARGET else f"above {ASR_RATIO_TARGET}"
        say(f"   ours {cmp['ours_s']:.1f} s, whisperx {cmp['whisperx_s']:.1f} s: ratio {cmp['ratio']:.2f} ({verdict})")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
