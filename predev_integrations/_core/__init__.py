"""The pure core: no I/O, no clock, no httpx; everything above builds on it."""
