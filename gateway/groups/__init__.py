"""Compare with friends: groups of results, side by side (spec 8)."""
