"""pre-ner: names from the job's metadata and glossary (spaCy NER over the
synopsis and lists), ranked into the ASR's initial prompt and hotwords within
Whisper's 223-token prompt window."""
