"""Clients for the services the gateway calls (HTTP only: no torch on this side)."""
