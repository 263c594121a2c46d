"""FAQ content, the Vietnamese normaliser and the matcher."""
