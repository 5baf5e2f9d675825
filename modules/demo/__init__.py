"""The built-in demo: procedural captioned shape images, an analyzer that reads them back, a benchmark."""
