"""Moved to hl_email.outbound.template_budget; kept for gateway.py until the split lands."""

from hl_email.outbound.template_budget import (
    BudgetedSandbox,
    TemplateBudget,
    TemplateBudgetError,
    render_within_budget,
)

__all__ = ["BudgetedSandbox", "TemplateBudget", "TemplateBudgetError", "render_within_budget"]
