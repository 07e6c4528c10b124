"""The container executor: one image per stage, one compose project per job.

    python3 -m host.containers run movie.mp4        (make run; the other targets: docker/compose.mk)

By concern:

- ``cli``: the docker CLI, and whether it can do what the pipeline needs
  (engine, socket permission, BuildKit, compose v2): one line naming the cause
  and the fix when it cannot;
- ``images``: the image set of a profile (from the stage graph), what each
  image is built from (``shared.sources.image_files`` and the Dockerfile
  generator's table: nothing is read back from the Dockerfiles), building what
  is missing or out of date, the wheelhouse;
- ``jobs``: a job, one stage, a shell, a batch, a model download, through
  compose; the job lifecycle itself is host/lifecycle.py, shared with the
  native runner;
- ``__main__``: the command line.

Standard library only: the host's plain ``python3`` runs it, no venv needed.
"""
