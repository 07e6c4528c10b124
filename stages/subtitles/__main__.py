"""subtitles: cue layout by a rules profile; subtitle files, manifest and QC report."""
import sys

from shared.stage import main
from stages.subtitles.stage import model_identity, run

sys.exit(main("subtitles", run, model_identity))
