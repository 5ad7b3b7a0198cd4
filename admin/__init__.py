"""The commune staff's side: the web dashboard, report exports and the accounts behind them."""
