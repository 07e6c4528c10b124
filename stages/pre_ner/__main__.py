"""pre-ner: entities, and the ASR prompt and hotwords, from metadata.json and glossary.tsv."""
import sys

from shared.stage import main
from stages.pre_ner.stage import model_identity, run

sys.exit(main("pre-ner", run, model_identity))
