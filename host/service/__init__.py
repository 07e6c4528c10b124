"""The service: an HTTP API (whisper-asr-webservice's ``/asr`` and ``/detect-language``,
plus jobs with status) and a watch folder, on top of the pipeline's executors.

It creates jobs and hands them to an executor (``executor.py``: the native runner
as a subprocess today, a queue later); it never runs stage code itself.

    python -m host.service              # make serve: the API on 127.0.0.1:9000
    python -m host.service.watch DIR    # make watch DIR=library/

Modules: ``options`` (settings), ``request`` (what a client asks, mapped onto the
pipeline's settings; the job id), ``media`` (uploads streamed to disk, raw PCM
wrapped into WAV, library paths confined), ``executor`` (the interface and the
native executor), ``status`` (a job folder read back), ``language`` (language
detection), ``app`` (the FastAPI app), ``watch`` (the watch folder).
"""
