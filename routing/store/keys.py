"""The common key prefix; each store module defines its own keys and TTLs under it, once."""

PREFIX = "ll:"
