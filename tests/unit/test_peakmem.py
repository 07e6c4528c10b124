"""The peak memory a stage records is its own, not that of the runner that started it."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from shared.lock import read_lock
from shared.peakmem import own_peak_rss_mb, peak_rss_mb

BIG_MB = 600

# a stage run through the real shared.stage.execute on a job made here, with a tiny run()
STAGE = textwrap.dedent("""
    import dataclasses, json, sys
    from pathlib import Path
    from host.jobs import create_job
    from shared import graph
    from shared.options.subtitles import SubtitleOptions
    from shared.stage import StageReport, execute

    tmp = Path(sys.argv[1])
    media = tmp / "film.wav"
    media.write_bytes(b"media bytes")
    job = create_job(media, jobs_dir=tmp / "jobs")
    for stage, name in (("asr", "transcript.json"), ("demux", "media.json")):
        (job.root / stage).mkdir()
        (job.root / stage / name).write_text("{}")

    def run(inputs, outputs, options, hook):
        outputs["subtitles"].write_text("{}")
        outputs["qc_report"].write_text("{}")
        return StageReport()

    spec = dataclasses.replace(graph.stage("subtitles"), optional_inputs=())
    execute(spec, job, SubtitleOptions(), run, lambda options: {}, skip=frozenset({"post-ner"}))
    print(job.root)
""")

# the "runner": grows to BIG_MB, then starts the stage as its own process, as host/runner.py does
RUNNER = textwrap.dedent(f"""
    import subprocess, sys
    buffer = bytearray({BIG_MB} << 20)
    for i in range(0, len(buffer), 4096):
        buffer[i] = 1
    done = subprocess.run([sys.executable, "-c", sys.argv[1], sys.argv[2]], check=True, capture_output=True, text=True)
    print(done.stdout.strip().splitlines()[-1])
""")


def test_a_stage_started_by_a_big_runner_records_its_own_small_peak(tmp_path):
    done = subprocess.run([sys.executable, "-c", RUNNER, STAGE, str(tmp_path)], check=True, capture_output=True, text=True)
    job_root = Path(done.stdout.strip().splitlines()[-1])
    lock = read_lock(job_root / "subtitles")
    outcome = json.loads((job_root / "subtitles" / "outcome.json").read_text())
    assert 5 < lock.timings["peak_rss_mb"] < BIG_MB / 3, lock.timings
    assert outcome["peak_rss_mb"] == lock.timings["peak_rss_mb"]


def test_own_peak_grows_with_what_this_process_touches():
    buffer = bytearray(64 << 20)
    for i in range(0, len(buffer), 4096):
        buffer[i] = 1
    assert own_peak_rss_mb() >= 64
    assert peak_rss_mb() >= own_peak_rss_mb()


def test_without_proc_the_resource_figure_is_used(tmp_path):
    assert own_peak_rss_mb(tmp_path / "missing") > 0
    status = tmp_path / "status"
    status.write_text("Name:\tpython\nVmHWM:\t  204800 kB\n")
    assert own_peak_rss_mb(status) == 200.0


def test_freed_memory_can_be_handed_back_anywhere():
    from shared.peakmem import return_freed_memory

    return_freed_memory()
    return_freed_memory()  # glibc looked up once; elsewhere a no-op
