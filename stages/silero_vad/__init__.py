"""silero-vad: Silero VAD (ONNX sequence model, CPU) over the demuxed audio -> speech regions."""
