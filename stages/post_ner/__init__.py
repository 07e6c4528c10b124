"""post-ner: names in the transcript corrected against the job's known names
(spaCy NER spans and word n-grams, fuzzy-matched with rapidfuzz), with a log
of every correction. The asr transcript is never rewritten."""
