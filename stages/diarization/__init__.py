"""diarization: who speaks when, by a pyannote.audio pipeline (large from the cache, or embedded)."""
