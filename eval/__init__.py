"""Evaluation: measure retrieval quality and the text tools against labelled data."""
