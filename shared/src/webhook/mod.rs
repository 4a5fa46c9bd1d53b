//! Intercom webhooks: signature verification, parsing, and the event relayed to the agent.
