"""Helpers for the optional vLLM check (make test-vllm); run with vLLM's own virtualenv."""
