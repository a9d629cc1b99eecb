"""Platform-neutral inputs, outputs, errors and the feature registry.

Handlers import only from here (and from storage/config); adapters translate platform
payloads into these inputs and render these outputs.
"""
