"""Benchmarks that print tables (`make bench`); figures go in the README."""
