"""``python -m host.report --job <id>``: make a job's report.html again (``make report JOB=<id>``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from host.report import write_report
from shared import log as logging_setup
from shared.errors import PipelineError
from shared.job import Job


def main(argv: list[str] | None = None) -> int:
    logging_setup.configure()
    parser = argparse.ArgumentParser(prog="python -m host.report",
                                     description="Write <job>/report.html: timeline, stages, QC, corrections of one job.")
    parser.add_argument("--job", required=True, help="the job id (its folder's name)")
    parser.add_argument("--jobs-dir", type=Path, default=None, help="folder of jobs (default: $JOBS_DIR or ./jobs)")
    args = parser.parse_args(argv)
    try:
        job = Job.open(args.job, args.jobs_dir)
        path = write_report(job.root)
    except PipelineError as err:
        print(f"error: {logging_setup.mask_secrets(str(err))}", file=sys.stderr)
        return err.exit_code
    except Exception as err:  # one line, as everywhere
        logging_setup.get_logger("host.report").debug("traceback", exc_info=True)
        print(f"error: report for job {args.job} not written: {type(err).__name__}: "
              f"{logging_setup.mask_secrets(str(err))[:300]} (LOG_LEVEL=DEBUG shows the traceback)", file=sys.stderr)
        return 1
    print(f"report: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
