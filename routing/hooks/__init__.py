"""Inbound webhooks (Twilio): shared signature check; each feature registers its own hook routes."""
