"""Text analyses shared by several rule families (hidden Unicode, shell pipelines, injection
language, secrets). Pure functions over strings."""
