"""Rekognition Custom Labels: projects, datasets, project versions (training, serving), policies."""
