"""second-pass-translation: every translated segment again with its neighbours as context; per
segment the better of the two passes by a stated criterion, with the reason."""
