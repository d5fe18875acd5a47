"""Scoring restored images: NAFNet's metrics, the evaluation protocol, and the teacher check."""
