"""`make bench` (`python -m bench`): the project's speed, measured next to hand-written baselines.

Each part returns table rows; `run.main` prints them as one markdown table. Nothing here is a
test: figures are reported, never asserted (see tests/bench for the smoke test).
"""
