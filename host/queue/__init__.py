"""The queue executor's submitting side: ``python -m host.queue submit|status``.

Submit creates (or reopens) a job exactly as the native runner does (host/lifecycle.py open_job,
under the job lock), records the plan in ``<job>/queue.json`` and enqueues the stages that are
ready; the workers (fleet/) do the rest. Status is read from the job folders alone. docs/SCALE.md.
"""
