"""speakers: final word times (whisperx alignment or the ASR's) and a speaker for every word."""
