"""Order service: records an order in PostgreSQL, then calls a slow payment provider.

The order row is committed before the payment call. A client that times out and sends
the same order again makes the handler insert the same key a second time.
IDEMPOTENT=1 inserts with ON CONFLICT DO NOTHING and answers with the stored order.
Python logging text, uncaught errors left to uvicorn; spans go to an OTel
ConsoleSpanExporter file per worker (SPANS_DIR).
"""

import asyncio
import logging
import os

import psycopg
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor
from pydantic import BaseModel

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
log = logging.getLogger("orders")

DSN = os.environ.get("PG_DSN", "host=127.0.0.1 port=18232 user=postgres dbname=shop")
IDEMPOTENT = os.environ.get("IDEMPOTENT", "0") == "1"
PAYMENT_SLOTS = asyncio.Semaphore(int(os.environ.get("PAYMENT_SLOTS", "3")))
PAYMENT_SECONDS = float(os.environ.get("PAYMENT_SECONDS", "0.3"))

_spans_dir = os.environ.get("SPANS_DIR")
provider = TracerProvider(resource=Resource.create({"service.name": "orders"}))
if _spans_dir:
    _out = open(os.path.join(_spans_dir, f"spans-{os.getpid()}.json"), "a")  # noqa: SIM115 (open for the process's life)
    # one span per line (the exporter's default pretty-prints over ~20 lines each)
    provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(
        out=_out, formatter=lambda span: span.to_json(indent=None) + os.linesep)))
trace.set_tracer_provider(provider)
tracer = trace.get_tracer("orders")

app = FastAPI()


class Order(BaseModel):
    order_id: str
    customer: str
    amount_cents: int


async def charge(order: Order) -> str:
    with tracer.start_as_current_span("payment.charge") as span:
        span.set_attribute("order.id", order.order_id)
        async with PAYMENT_SLOTS:
            await asyncio.sleep(PAYMENT_SECONDS)
        return f"ch_{order.order_id}"


@app.post("/orders")
async def create_order(order: Order):
    span = trace.get_current_span()  # FastAPI's own server span for this request
    span.set_attribute("order.id", order.order_id)
    async with await psycopg.AsyncConnection.connect(DSN) as conn:
        with tracer.start_as_current_span("db.insert order"):
            if IDEMPOTENT:
                cur = await conn.execute(
                    "INSERT INTO orders (order_id, customer, amount_cents, status)"
                    " VALUES (%s, %s, %s, 'pending') ON CONFLICT (order_id) DO NOTHING",
                    (order.order_id, order.customer, order.amount_cents),
                )
                fresh = cur.rowcount == 1
            else:
                await conn.execute(
                    "INSERT INTO orders (order_id, customer, amount_cents, status)"
                    " VALUES (%s, %s, %s, 'pending')",
                    (order.order_id, order.customer, order.amount_cents),
                )
                fresh = True
            await conn.commit()
        if not fresh:
            row = await (
                await conn.execute(
                    "SELECT status, charge_id FROM orders WHERE order_id = %s",
                    (order.order_id,),
                )
            ).fetchone()
            log.info("order %s already recorded (status %s), not charging again",
                     order.order_id, row[0])
            span.set_attribute("order.replayed", True)
            return {"order_id": order.order_id, "status": row[0], "charge_id": row[1]}
        log.info("order %s recorded for %s", order.order_id, order.customer)
        charge_id = await charge(order)
        await conn.execute(
            "UPDATE orders SET status = 'paid', charge_id = %s WHERE order_id = %s",
            (charge_id, order.order_id),
        )
        await conn.commit()
        log.info("order %s paid (%s)", order.order_id, charge_id)
        return {"order_id": order.order_id, "status": "paid", "charge_id": charge_id}
