"""linkaudit's audit: flags compared with the synthetic truth."""
