"""Platform adapters: each turns its platform's payloads into core inputs and renders replies."""
