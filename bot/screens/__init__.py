"""The conversation's screens, one file each; each acts on meanings (`bot.understand`), never raw text.

`base.Conversation` is what a screen works with for one event: the store, the learner, the saved
state and the turn being built. `bot.dialogue` routes every event to the screen the learner is on.
"""
