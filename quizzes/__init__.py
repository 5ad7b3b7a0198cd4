"""Quizzes: the question model, grading, pass rules and review of missed questions."""
