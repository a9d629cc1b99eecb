"""The runtime: neutral core, dispatcher, adapters, composition root and CLI."""
