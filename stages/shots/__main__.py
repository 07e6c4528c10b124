"""shots: ffmpeg scdet, the video's hard cuts at its frame rate."""
import sys

from shared.stage import main
from stages.shots.stage import model_identity, run

sys.exit(main("shots", run, model_identity))
