"""mux: the input media with the subtitles as soft, language-tagged tracks;
video and audio streams are copied, never re-encoded."""
