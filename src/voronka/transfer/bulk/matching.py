"""The client a staged row names, found in one pass of joins (touchpoints and activities).

The client named by ``client_id`` must exist in the workspace (else the row is flagged
``unknown_client``); without an id, the client holding the row's phone, else its e-mail
(the lowest id when several do). Orders and deals link their rows by ``UPDATE`` statements
instead (``bulk.linking``), since they keep the matched client in their staging table.
"""

from __future__ import annotations

#: ``unknown_client`` and ``client_id`` of a staged row ``s`` joined by ``client_joins``
CLIENT_COLUMNS = """CASE WHEN s.client_id IS NOT NULL AND known.id IS NULL THEN 1 ELSE 0 END
        AS unknown_client,
      coalesce(s.client_id, ph.client_id, em.client_id) AS client_id"""

_HOLDERS = """
    LEFT JOIN (
      SELECT cp.value, min(cp.client_id) AS client_id
      FROM contact_point cp JOIN client c ON c.id = cp.client_id AND c.is_deleted = false
      WHERE cp.workspace_id = :ws AND cp.kind = '{kind}'
        AND cp.value IN (SELECT {kind} FROM {stage} WHERE {kind} IS NOT NULL)
      GROUP BY cp.value) {alias} ON {alias}.value = s.{kind}"""


def client_joins(stage: str) -> str:
    """The joins of ``stage AS s`` that ``CLIENT_COLUMNS`` reads: the client by id, and the
    holders of the batch's phones and e-mails (looked up only for the values staged)."""
    return (
        """
    LEFT JOIN client known ON known.id = s.client_id AND known.workspace_id = :ws
      AND known.is_deleted = false"""
        + _HOLDERS.format(kind="phone", stage=stage, alias="ph")
        + _HOLDERS.format(kind="email", stage=stage, alias="em")
    )
