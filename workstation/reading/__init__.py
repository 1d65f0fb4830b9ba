"""Headless reading logic the viewer uses: priors, hanging protocols, sync rules (sync.py), the order a stack is
read in (order.py). Plain objects, no Qt."""
