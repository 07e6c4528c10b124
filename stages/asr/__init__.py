"""asr: faster-whisper (CTranslate2), batched over the speech regions, word timestamps on."""
