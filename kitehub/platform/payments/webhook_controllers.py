"""``/api/v1/webhooks``: bank-monitoring services report transfers to the platform's account.

Deliveries are settled by the process's ``SettlementBatcher`` (``state.settlement``): the answer
comes once the delivery is stored and settled, in a transaction shared with the deliveries that
arrived at the same moment.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.openapi_problems import problems
from kitehub.platform.payments.enrollment_orders import school_account
from kitehub.platform.payments.instance_webhooks import instance_for_webhook
from kitehub.platform.payments.orders import configured_account
from kitehub.platform.payments.schemas import WebhookAck
from kitehub.platform.payments.settlement_batch import Received, SettlementBatcher
from kitehub.platform.payments.webhooks import (
    WEBHOOK_MAX_BODY_BYTES,
    casso_delivery,
    check_casso_signature,
    check_sepay_key,
    sepay_delivery,
)


class WebhookController(Controller):
    path = "/api/v1/webhooks"
    tags = ["webhooks"]  # noqa: RUF012 - Litestar declares it as an instance attribute
    request_max_body_size = WEBHOOK_MAX_BODY_BYTES  # 413 from Content-Length, or once that many bytes arrived
    opt = problems(401)

    @post("/sepay", status_code=200, summary="SePay: a transfer seen on the platform's account")
    async def sepay(
        self,
        data: JSONBody[dict[str, Any]],
        state: State,
        authorization: Annotated[str | None, HeaderParameter(name="Authorization", required=False)] = None,
    ) -> WebhookAck:
        check_sepay_key(authorization, state.settings.bank_webhook_api_key)
        await settlement(state).receive(Received(sepay_delivery(data), configured_account(state.settings)))
        return WebhookAck()

    @post("/casso", status_code=200, summary="Casso v2: a transfer seen on the platform's account")
    async def casso(
        self,
        data: JSONBody[dict[str, Any]],
        state: State,
        signature: Annotated[str | None, HeaderParameter(name="X-Casso-Signature", required=False)] = None,
    ) -> WebhookAck:
        check_casso_signature(signature, data, state.settings.casso_webhook_secret)
        await settlement(state).receive(Received(casso_delivery(data), configured_account(state.settings)))
        return WebhookAck()

    @post("/sepay/instances/{instance_id:uuid}", status_code=200,
          summary="SePay on a school's own account: its enrollment fees (the instance's own key)")  # fmt: skip
    async def sepay_for_school(
        self,
        instance_id: FromPath[uuid.UUID],
        data: JSONBody[dict[str, Any]],
        platform_session: NamedDependency[AsyncSession],
        state: State,
        authorization: Annotated[str | None, HeaderParameter(name="Authorization", required=False)] = None,
    ) -> WebhookAck:
        instance = await instance_for_webhook(platform_session, instance_id, authorization)
        account = school_account(instance) if instance.bank_account_number else None
        await platform_session.close()  # its connection goes back before waiting for the batch, which needs one
        await settlement(state).receive(Received(sepay_delivery(data), account, instance_id=instance.id))
        return WebhookAck()


def settlement(state: State) -> SettlementBatcher:
    batcher: SettlementBatcher = state.settlement
    return batcher
