"""The five types and the reference catalog."""
