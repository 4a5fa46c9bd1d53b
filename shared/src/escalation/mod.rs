//! Escalation: the pure rules (`rules`, `human_request`) and the hand-off flow.
