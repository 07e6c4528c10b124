"""Host-side code: it creates jobs and runs them, and never goes into a stage image.

Job creation (with the optional TMDB fetch), the job lifecycle both executors
share, the native and the container executors, and the README's settings
table. Stage code never imports this package (tests/unit/test_imports.py).
"""
