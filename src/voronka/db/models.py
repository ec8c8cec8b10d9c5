"""Import every model so that ``Base.metadata`` knows all tables (Alembic, tests)."""

from voronka.activity.models import Activity
from voronka.analytics.alert.models import MetricAlert  # noqa: F401
from voronka.analytics.scoring.models import DealScore, ModelRun  # noqa: F401
from voronka.audit.models import AuditEvent
from voronka.campaign.models import AdSpend, Campaign, Channel, Touchpoint, TrackingNumber
from voronka.client.models import Client, ClientTag, ConsentRecord, ContactPoint
from voronka.db.base import Base
from voronka.deal.models import Deal, DealStageChange
from voronka.integrations.inbound import InboundEvent
from voronka.integrations.mail.models import MailCursor
from voronka.integrations.telephony.models import TelephonyCall, TelephonyExtension
from voronka.jobs.models import Job
from voronka.lead.models import FormSubmission, LeadForm
from voronka.order.models import (
    Order,
    OrderLine,
    OrderStatusChange,
    Product,
    ProductGroup,
    StockLevel,
)
from voronka.pipeline.models import Pipeline, Stage
from voronka.segment.models import Segment, SegmentMember  # noqa: F401
from voronka.support.models import Feedback, Ticket
from voronka.tracking.models import (
    NumberReservation,
    Site,
    SiteGoal,
    SitePageView,
    SiteVisit,
    SiteVisitor,
)
from voronka.transfer.models import ImportRun, SavedMapping
from voronka.user.models import ApiToken, Team, User, UserSession
from voronka.web.ui.models import SavedView
from voronka.workspace.models import Workspace

__all__ = [
    "Activity",
    "AdSpend",
    "ApiToken",
    "AuditEvent",
    "Base",
    "Campaign",
    "Channel",
    "Client",
    "ClientTag",
    "ConsentRecord",
    "ContactPoint",
    "Deal",
    "DealStageChange",
    "InboundEvent",
    "Feedback",
    "FormSubmission",
    "ImportRun",
    "Job",
    "LeadForm",
    "MailCursor",
    "NumberReservation",
    "Order",
    "OrderLine",
    "OrderStatusChange",
    "Pipeline",
    "Product",
    "ProductGroup",
    "SavedMapping",
    "SavedView",
    "Site",
    "SiteGoal",
    "SitePageView",
    "SiteVisit",
    "SiteVisitor",
    "Stage",
    "StockLevel",
    "Team",
    "TelephonyCall",
    "TelephonyExtension",
    "Ticket",
    "Touchpoint",
    "TrackingNumber",
    "User",
    "UserSession",
    "Workspace",
]
