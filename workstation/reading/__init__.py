"""Headless reading logic the viewer uses: priors, hanging protocols, sync rules. Plain objects, no Qt."""
