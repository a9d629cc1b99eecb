"""Settings, defaults, the message catalogue and the cooperation's editable data files."""
