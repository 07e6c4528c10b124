"""translation: translation/<lang>.json per target language and a manifest."""
import sys

from shared.stage import main
from stages.translation.stage import model_identity, run

sys.exit(main("translation", run, model_identity))
