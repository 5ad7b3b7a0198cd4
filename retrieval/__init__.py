"""Retrieval: passages from the lessons, encoders, dense and lexical indexes, fusion and the decision."""
