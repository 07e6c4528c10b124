"""demux: ffprobe the input, pick one audio stream, decode it with ffmpeg to
16 kHz mono PCM WAV (``audio.wav``) and describe the media (``media.json``)."""
