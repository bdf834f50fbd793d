"""Publishers: render a ScanReport for GitHub (check run, sticky comment). They never re-derive a
verdict; they only present the report."""
