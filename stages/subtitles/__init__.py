"""subtitles: word timings -> cues by a rules profile (Netflix-like defaults),
written as SRT, VTT, ASS, JSON, TXT and TSV, with a QC report of every cue
that still breaks a rule."""
