"""The conversation: value types, the dialogue engine, its texts, the channels and the wiring."""
