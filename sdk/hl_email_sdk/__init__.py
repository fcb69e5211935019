"""What agent code imports: the HumanLayer 0.7.x API, answered by email through hl-email."""

from hl_email.models import (
    ContactChannel,
    EmailContactChannel,
    EmailRecipient,
    Escalation,
    FunctionCall,
    FunctionCallSpec,
    FunctionCallStatus,
    HumanContact,
    HumanContactSpec,
    HumanContactStatus,
    ResponseOption,
)

from .client import AsyncHumanLayer, HumanLayer
from .errors import (
    DeliveryFailedError,
    GatewayUnreachableError,
    HumanLayerException,
    HumanLayerTimeoutError,
    RequestCancelledError,
)

__all__ = [
    "AsyncHumanLayer",
    "ContactChannel",
    "DeliveryFailedError",
    "EmailContactChannel",
    "EmailRecipient",
    "GatewayUnreachableError",
    "Escalation",
    "FunctionCall",
    "FunctionCallSpec",
    "FunctionCallStatus",
    "HumanContact",
    "HumanContactSpec",
    "HumanContactStatus",
    "HumanLayer",
    "HumanLayerException",
    "HumanLayerTimeoutError",
    "RequestCancelledError",
    "ResponseOption",
]
