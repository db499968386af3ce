"""The web client, the share page and its result card."""
