"""Analyses: a selfie in, a type out (and the seed's legacy endpoint)."""
