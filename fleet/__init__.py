"""The queue executor's worker side: the stage images as Celery workers on Redis queues.

One queue per stage and device class, derived from shared/graph.py (``queues``). A task is
``(job id, stage)``: a worker takes the job lock, runs ``python -m stages.<name> --job <id>``
as a subprocess (the stage's own freshness, lock and atomic outputs), and, while still holding
the lock, enqueues the stages that became ready by the runner's rule (``graph.ready``). What was
enqueued and started is recorded in the job folder (``record``), which is also where the status
is read (``status``). Stage-neutral: copied into every stage image beside ``shared/``; imports
``shared`` and celery, never ``host`` or a stage. docs/SCALE.md.
"""
