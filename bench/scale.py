"""Jobs per hour: the queue executor with 1 and 2 workers against native runs, measured in the same run.

    python -m bench.scale            # 6 spoken clips (flite), every mode
    python -m bench.scale --smoke    # 2 short clips, native-2 and queue-2 only: checks it reaches its report

Modes, each on a fresh jobs folder (nothing fresh to reuse), the same inputs and the same
SKIP_STAGES (the stages that need no large model: demux, silero-vad, asr, subtitles, mux):

    native-1   host.runner for one input after the other (make batch JOBS=1)
    native-2   two host.runner processes at a time (make batch JOBS=2)
    queue-1    redis-server and one worker serving every queue (python -m fleet.worker --all)
    queue-2    the same with two workers

Prints wall time and jobs per hour per mode, and the ratios queue-1/native-1, queue-2/native-2
and queue-2/queue-1. On a 2-core machine two of anything compete for the same cores; the
ratios show the queue's overhead (a process per stage, the broker) and how it scales.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.fleet_procs import REPO_ROOT, RedisServer, Worker, queue_env

MODES = ("native-1", "native-2", "queue-1", "queue-2")
SKIP = "pre-ner,post-ner,pyannote-vad,diarization,speakers,lyrics-detection,translation,second-pass-translation"
TEXTS = [
    "The first reel opens on a harbour at dawn, where the fishing boats come home with their catch.",
    "Nobody in the village remembered who had built the lighthouse, or why it stood so far from the cliffs.",
    "She folded the letter twice, put it in her coat, and walked to the station without looking back.",
    "By noon the market was full of voices, bargaining over bread, cheese, apples and the price of wool.",
    "The old clock in the hall struck seven, and every guest at the table fell silent at once.",
    "When the storm finally passed, the children ran down to the beach to count the broken shells.",
]


def make_inputs(folder: Path, count: int, smoke: bool) -> list[Path]:
    inputs = []
    for n in range(count):
        text = TEXTS[n % len(TEXTS)] if not smoke else TEXTS[n].split(",")[0]
        path = folder / f"clip{n}.wav"
        subprocess.run(["flite", "-t", text, "-o", str(path)], check=True, timeout=60)
        inputs.append(path)
    return inputs


def native(inputs: list[Path], jobs_dir: Path, parallel: int) -> float:
    env = dict(os.environ)
    env.update({"PYTHONPATH": str(REPO_ROOT), "JOBS_DIR": str(jobs_dir), "SKIP_STAGES": SKIP})

    def one(media: Path) -> int:
        return subprocess.run([sys.executable, "-m", "host.runner", str(media), "--jobs-dir", str(jobs_dir)],
                              cwd=REPO_ROOT, env=env, capture_output=True, timeout=1800).returncode

    start = time.perf_counter()
    with ThreadPoolExecutor(parallel) as pool:
        codes = list(pool.map(one, inputs))
    if any(codes):
        raise SystemExit(f"native run failed: exit codes {codes}")
    return time.perf_counter() - start


def queued(inputs: list[Path], folder: Path, workers: int) -> float:
    jobs_dir = folder / "jobs"
    redis = RedisServer(folder / "redis")
    redis.start()
    env = queue_env(redis, jobs_dir, SKIP_STAGES=SKIP)
    procs: list[Worker] = []
    try:
        procs = [Worker(["--all", "--profile", "cpu", "--name", f"w{n}@bench"], env, folder / f"worker{n}.log")
                 for n in range(workers)]
        time.sleep(2)  # the workers connect (not counted: a fleet is up before jobs arrive)
        start = time.perf_counter()
        submit = subprocess.run([sys.executable, "-m", "host.queue", "--jobs-dir", str(jobs_dir), "submit",
                                 *map(str, inputs)], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
        if submit.returncode:
            raise SystemExit(f"submit failed: {submit.stderr}")
        while True:
            out = subprocess.run([sys.executable, "-m", "host.queue", "--jobs-dir", str(jobs_dir), "status", "--json"],
                                 cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60, check=True)
            states = [json.loads(line)["state"] for line in out.stdout.splitlines()]
            if "failed" in states:
                raise SystemExit(f"a queued job failed: {out.stdout}")
            if len(states) == len(inputs) and set(states) == {"done"}:
                return time.perf_counter() - start
            if time.perf_counter() - start > 1800:
                raise SystemExit("the queue did not finish in 30 minutes")
            time.sleep(0.5)
    finally:
        for worker in procs:
            worker.stop()
        redis.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="2 short clips: only checks the benchmark runs")
    parser.add_argument("--inputs", type=int, default=None, help="how many clips (default 6, smoke 2)")
    args = parser.parse_args(argv)
    count = args.inputs or (2 if args.smoke else 6)
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        root = Path(tmp)
        inputs = make_inputs(root, count, args.smoke)
        walls = {}
        for mode in (("native-2", "queue-2") if args.smoke else MODES):
            kind, _, workers = mode.partition("-")
            walls[mode] = (native if kind == "native" else queued)(inputs, root / mode, int(workers))
    print(f"{count} inputs, stages demux, silero-vad, asr, subtitles, mux (SKIP_STAGES={SKIP})")
    print(f"{'mode':<10}{'wall s':>9}{'jobs/hour':>11}")
    for mode, wall in walls.items():
        print(f"{mode:<10}{wall:>9.1f}{count * 3600 / wall:>11.0f}")
    for better, base in (("queue-1", "native-1"), ("queue-2", "native-2"), ("queue-2", "queue-1")):
        if better in walls and base in walls:
            print(f"ratio {better}/{base} (throughput) {walls[base] / walls[better]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
