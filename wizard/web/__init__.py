"""The web layer: a package per blueprint (views.py, forms.py) and what they share."""
