"""Writers: atomic PNG frames, the MP4 clip, and the manifest that makes renders resumable."""
