"""A local emulator of the part of amoCRM API v4 that Junction uses."""
