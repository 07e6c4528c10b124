import sys

from shared.stage import main
from stages.diarization.stage import model_identity, run

sys.exit(main("diarization", run, model_identity))
