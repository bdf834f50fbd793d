"""The GitHub Actions adapter (``python -m action``): reads the workflow's event and token, builds
the same PR snapshot through app's GitHub client, runs the same pipeline, writes outputs, step
summary, annotations, SARIF and the report JSON, and the sticky comment when it may."""
