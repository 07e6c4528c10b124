import sys

from shared.stage import main
from stages.asr.stage import model_identity, run

sys.exit(main("asr", run, model_identity))
