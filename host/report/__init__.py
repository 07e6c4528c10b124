"""The job report: ``<job>/report.html``, one self-contained page per job.

    write_report(job_root, summary)      # collect.py reads the job, render.py writes the page
    python -m host.report --job <id>     # make report JOB=<id>: made again from the job folder

The lifecycle (host/lifecycle.py, ``finish_job``) writes it after the summary
of every run, whatever the executor, through :func:`write_or_warn`: a report
that cannot be made is one warning line, never a failed job. Standard library
only (pysubs2 is used where installed, host/report/cues.py), because the
container executor runs on the host's plain python3.

- ``collect``: the job folder into one JSON-ready record (capped lists);
- ``envelope``: the audio's energy envelope (``wave`` + ``array``);
- ``cues``: the subtitle tracks' cues;
- ``render``: the HTML page, ``report.css`` and ``report.js`` inlined.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shared import log as logging_setup
from shared.fsio import atomic_write_text, read_json
from shared.job import Job

__all__ = ["REPORT_FILE", "write_or_warn", "write_report"]

REPORT_FILE = "report.html"
SUMMARY_FILE = "summary.json"

log = logging_setup.get_logger("host.report")


def write_report(job_root: Path, summary: dict[str, Any] | None = None) -> Path:
    """Write ``<job_root>/report.html`` and return its path. ``summary``: the run's summary;
    None reads the job's summary.json (when there is one)."""
    from host.report.collect import collect
    from host.report.render import render

    if summary is None and (job_root / SUMMARY_FILE).is_file():
        data = read_json(job_root / SUMMARY_FILE)
        summary = data if isinstance(data, dict) else None
    path = job_root / REPORT_FILE
    atomic_write_text(path, render(collect(Job(job_root), summary)))
    return path


def write_or_warn(job_root: Path, summary: dict[str, Any] | None = None) -> Path | None:
    """:func:`write_report`, or one warning line (and None) when it fails: a report never fails a job."""
    try:
        return write_report(job_root, summary)
    except Exception as err:
        log.debug("report traceback", exc_info=True)
        log.warning("report.html not written for %s: %s: %s (the job itself is fine; "
                    "make report JOB=%s tries again, LOG_LEVEL=DEBUG shows why)",
                    job_root, type(err).__name__, " ".join(str(err).split())[:200], job_root.name)
        return None
