"""Who may do what: the actor, the declarative policy table and record scopes."""
