"""Tests of phone and browser calls: audio, recognition, speech and the call channels."""
