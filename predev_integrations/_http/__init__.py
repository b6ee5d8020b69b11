"""The HTTP shell: the sync and async clients and their private internals."""
