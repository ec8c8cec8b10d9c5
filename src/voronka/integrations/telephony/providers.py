"""The telephony providers by name (the ``<provider>`` of ``/api/v1/hooks/<provider>/…``)."""

from __future__ import annotations

from voronka.integrations.telephony.asterisk import AsteriskProvider
from voronka.integrations.telephony.base import TelephonyProvider
from voronka.integrations.telephony.generic import GenericProvider
from voronka.integrations.telephony.mango import MangoProvider
from voronka.integrations.telephony.zadarma import ZadarmaProvider

PROVIDERS: dict[str, TelephonyProvider] = {
    p.name: p for p in (GenericProvider(), AsteriskProvider(), ZadarmaProvider(), MangoProvider())
}
