"""credscore's hand-labelled segments, shipped as package data (see GUIDELINES.md)."""
