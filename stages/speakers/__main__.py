import sys

from shared.stage import main
from stages.speakers.stage import model_identity, run

sys.exit(main("speakers", run, model_identity))
