"""mux: ffmpeg, soft subtitle tracks, language-tagged, streams copied."""
import sys

from shared.stage import main
from stages.mux.stage import model_identity, run

sys.exit(main("mux", run, model_identity))
