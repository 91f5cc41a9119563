"""A Celery app whose tasks carry type hints, for `celery-wire stubs` tests (never run as a worker).

Covers what the stub generator maps: scalars, Optional, unions, list/tuple/dict, TypedDict,
dataclasses, pydantic models, Literal, defaults, keyword-only and variadic parameters, bound
tasks, and a task without hints.
"""
import dataclasses
import datetime
import decimal
import typing
import uuid

import pydantic
from celery import Celery

app = Celery('typed', broker='memory://', backend='cache+memory://')


class Point(typing.TypedDict):
    x: int
    y: int


class Labelled(typing.TypedDict, total=False):
    label: str
    weight: float


@dataclasses.dataclass
class Invoice:
    number: str
    total: decimal.Decimal
    issued: datetime.datetime
    lines: typing.List[str] = dataclasses.field(default_factory=list)


class User(pydantic.BaseModel):
    id: uuid.UUID
    name: str
    email: typing.Optional[str] = None


@app.task(name='typed.add')
def add(x: int, y: int = 1) -> int:
    """Add two integers."""
    return x + y


@app.task(name='typed.scale')
def scale(values: typing.List[float], factor: float) -> typing.List[float]:
    return [v * factor for v in values]


@app.task(name='typed.lookup')
def lookup(table: typing.Dict[str, int], key: str) -> typing.Optional[int]:
    return table.get(key)


@app.task(name='typed.move')
def move(p: Point, dx: int, dy: int, *, label: typing.Optional[Labelled] = None) -> Point:
    return {'x': p['x'] + dx, 'y': p['y'] + dy}


@app.task(name='typed.bill', bind=True)
def bill(self, invoice: Invoice, when: datetime.date) -> typing.Tuple[str, decimal.Decimal]:
    return invoice.number, invoice.total


@app.task(name='typed.greet', pydantic=True)
def greet(user: User, mode: typing.Literal['short', 'long'] = 'short') -> str:
    return f'hi {user.name}'


@app.task(name='typed.blob')
def blob(data: bytes, *parts: str, **extra: typing.Union[int, str]) -> typing.Dict[str, bytes]:
    return {'data': data}


@app.task(name='typed.untyped')
def untyped(a, b=None):
    return a
