"""The curriculum: lesson models, the loader and validator, and the content itself."""
