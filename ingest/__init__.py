"""Reading documents: one loader per file format (the table: ``formats``), chunking with exact spans,
the folder walk.

The lowest layer of the application: it imports only ``core`` (errors, cache folder, file
guarantees), nothing above it.
"""
