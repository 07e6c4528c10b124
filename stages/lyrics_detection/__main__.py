"""lyrics-detection: lyrics-detection/lyrics.json."""
import sys

from shared.stage import main
from stages.lyrics_detection.stage import model_identity, run

sys.exit(main("lyrics-detection", run, model_identity))
