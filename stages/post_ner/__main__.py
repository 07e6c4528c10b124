"""post-ner: a corrected transcript and a corrections log from the transcript and the known names."""
import sys

from shared.stage import main
from stages.post_ner.stage import model_identity, run

sys.exit(main("post-ner", run, model_identity))
