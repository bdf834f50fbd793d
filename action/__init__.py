"""The GitHub Actions adapter (``python -m action``): reads the workflow's event and token, builds
the same PR snapshot through app's GitHub client, runs the same pipeline, writes outputs, step
summary, annotations and SARIF. Being built in issue 5; the scanner is usable today through
``watchpost scan-pr``."""
