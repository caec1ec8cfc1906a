"""The reference wallet (issue #18): pure holder logic; the CLI does the I/O."""
