"""The storage layer: the only code that talks to Redis. One module per aggregate."""
