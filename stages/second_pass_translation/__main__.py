"""second-pass-translation: second-pass-translation/<lang>.json per language and a manifest."""
import sys

from shared.stage import main
from stages.second_pass_translation.stage import model_identity, run

sys.exit(main("second-pass-translation", run, model_identity))
