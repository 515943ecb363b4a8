"""What the wizard does, without the web: drafts, step 4, a saved connection's use."""
