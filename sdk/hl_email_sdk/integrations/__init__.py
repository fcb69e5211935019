"""Adapters for agent frameworks; each module needs its framework (an optional extra) and only
the SDK, never the gateway's mail code:

* `hl_email_sdk.integrations.langchain` — `human_as_tool`, `require_approval` as StructuredTools
  (`pip install 'hl-email[langchain]'`).
* `hl_email_sdk.integrations.langgraph` — `interrupt()` answered by email, resumed with
  `Command(resume=…)`, durable across restarts (`pip install 'hl-email[langgraph]'`).
* `hl_email_sdk.integrations.openai_agents` — tool approvals (`needs_approval=True`) decided by
  email and a `contact_human` function tool (`pip install 'hl-email[openai-agents]'`).
"""
