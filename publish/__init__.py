"""Publisher: diff the built bundle against the remote state, apply the plan in a safe order."""
