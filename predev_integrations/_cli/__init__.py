"""The command line and what only it uses: settings, config file, cache, reports."""
