import sys

from shared.stage import main
from stages.silero_vad.stage import model_identity, run

sys.exit(main("silero-vad", run, model_identity))
