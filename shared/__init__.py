"""The contract every stage imports: stage graph, job folder, locks, typed
artifacts, options, model resolution, logging and progress.

``shared`` imports no stage: stages meet only through the files declared in
:mod:`shared.graph`.
"""

__version__ = "0.1.0"
