"""Unit tests of the model-serving side (handlers, scoring)."""
