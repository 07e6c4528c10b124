"""One package per stage. A stage imports ``shared`` and its own libraries,
never another stage: stages meet only through files in the job folder."""
