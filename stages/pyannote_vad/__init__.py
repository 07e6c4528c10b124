"""pyannote-vad: silero's speech regions refined by a pyannote segmentation model."""
