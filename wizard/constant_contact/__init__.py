"""The only code that talks to Constant Contact, and the rules for its formats."""
