"""translation: each transcript segment into every TARGET_LANGUAGES language, by Whisper speech
translation (into English) or a transformers MT model; names and glossary terms protected."""
