import sys

from shared.stage import main
from stages.pyannote_vad.stage import model_identity, run

sys.exit(main("pyannote-vad", run, model_identity))
