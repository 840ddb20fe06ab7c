"""A FastAPI shop with prometheus-fastapi-instrumentator (conformance suite, uvicorn)."""

from __future__ import annotations

import asyncio
import os

from fastapi import FastAPI, Response
from prometheus_fastapi_instrumentator import Instrumentator

#: How much slower than the others this instance is (the suite runs one at 2x).
SLOWDOWN = float(os.environ.get("SHOP_SLOWDOWN", "1"))
DELAY_S = 0.03

app = FastAPI()


@app.get("/items/{number}")
async def item(number: int) -> dict[str, int]:
    await asyncio.sleep(DELAY_S * SLOWDOWN)
    return {"item": number}


@app.get("/fail")
async def fail() -> Response:
    await asyncio.sleep(DELAY_S * SLOWDOWN)
    return Response("out of stock", status_code=500)


# As the instrumentator's README does: the scrapes themselves are not shop traffic.
Instrumentator(excluded_handlers=["/metrics"]).instrument(app).expose(app)
