"""`interactors run`: the command line, app loading, settings, logging, reload, signals."""
