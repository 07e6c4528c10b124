"""demux: ffmpeg, the chosen audio stream as 16 kHz mono PCM, and media info."""
import sys

from shared.stage import main
from stages.demux.stage import model_identity, run

sys.exit(main("demux", run, model_identity))
