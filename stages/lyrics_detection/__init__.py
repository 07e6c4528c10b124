"""lyrics-detection: song (music with singing) regions from the audio and the transcript's lines."""
