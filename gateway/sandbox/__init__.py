"""A stateful emulator of Polar's customer REST API, for the embedded default and for tests.

It follows ``docs/upstream/polar-customers.md``: paths, trailing slashes, status codes, bodies and
validation messages. Everything lives in memory and is rebuilt from a seed on start and on reset.
"""
