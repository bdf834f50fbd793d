"""One source per lookup origin: ``registry.SOURCES`` maps each origin to its ``base.Source``."""
