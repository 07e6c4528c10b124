"""shots: hard cuts of the video, frame-accurate, for the subtitles stage to time cues against."""
