"""The portal spider and the decisions it leans on: frontier, discovery, incremental, accounting."""
