"""`python -m bot` runs the `hocvuso` command line."""

from bot.cli import main

main()
