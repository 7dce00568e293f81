"""Training data: image datasets through TFDS (online, or imported from IDX files offline) and
2-D toy distributions."""
