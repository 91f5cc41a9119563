/**
 * The Python side of `celery-wire stubs`: run with the user's own interpreter as
 * `python -c <this> APP`, it loads the app as `celery -A APP` does (`celery.app.utils.find_app`,
 * then the loader's default modules, so autodiscovered tasks are there too), changes nothing, and
 * prints one JSON document (`PyAppInfo`, see model.ts): every non-builtin task's signature
 * (`inspect.signature`) and type hints (`typing.get_type_hints`), with TypedDicts, dataclasses and
 * pydantic models described field by field. Kept as text here so the package ships it inside
 * dist/ with nothing else to install.
 */
export const INTROSPECT_SCRIPT = String.raw`"""celery-wire stubs: describe a Celery app's tasks as JSON (names, parameters, type hints).

Run in the user's own Python environment, like 'celery -A proj ...': it imports the app the way
Celery's CLI does and changes nothing. Output: one JSON document on stdout.
"""
import dataclasses
import datetime
import decimal
import enum
import inspect
import json
import sys
import typing
import uuid

import celery
from celery.app.utils import find_app

NONE_TYPE = type(None)
SCALARS = {
    int: 'int', float: 'float', str: 'str', bool: 'bool', bytes: 'bytes', bytearray: 'bytes',
    NONE_TYPE: 'none', datetime.datetime: 'datetime', datetime.date: 'date',
    datetime.time: 'time', decimal.Decimal: 'decimal', uuid.UUID: 'uuid',
    complex: 'unknown', object: 'any',
}
SEQUENCES = ('list', 'set', 'frozenset', 'Sequence', 'MutableSequence', 'Iterable',
             'Collection', 'AbstractSet', 'MutableSet', 'deque', 'Set', 'List', 'FrozenSet')
MAPPINGS = ('dict', 'Mapping', 'MutableMapping', 'Dict', 'OrderedDict', 'defaultdict')
named = {}


def is_typeddict(tp):
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, '__total__') \
        and hasattr(tp, '__annotations__')


def is_pydantic(tp):
    return isinstance(tp, type) and any(
        getattr(base, '__module__', '').startswith('pydantic') for base in tp.__mro__[1:])


def type_name(tp):
    return getattr(tp, '__qualname__', getattr(tp, '__name__', repr(tp))).replace('.', '_')


def describe_record(tp, kind):
    name = type_name(tp)
    if name in named:
        return {'kind': 'ref', 'name': name}
    named[name] = None  # recursion guard
    fields = []
    if kind == 'typeddict':
        hints = typing.get_type_hints(tp)
        required = getattr(tp, '__required_keys__', set(hints) if tp.__total__ else set())
        for key, hint in hints.items():
            fields.append({'name': key, 'type': describe(hint), 'required': key in required})
    elif kind == 'dataclass':
        hints = typing.get_type_hints(tp)
        for f in dataclasses.fields(tp):
            has_default = f.default is not dataclasses.MISSING or \
                f.default_factory is not dataclasses.MISSING
            fields.append({'name': f.name, 'type': describe(hints.get(f.name, typing.Any)),
                           'required': not has_default})
    else:  # pydantic v2 (model_fields) or v1 (__fields__)
        model_fields = getattr(tp, 'model_fields', None)
        if model_fields is not None:
            for key, f in model_fields.items():
                fields.append({'name': f.alias or key, 'type': describe(f.annotation),
                               'required': f.is_required()})
        else:
            for key, f in tp.__fields__.items():
                fields.append({'name': f.alias, 'type': describe(f.outer_type_),
                               'required': bool(f.required)})
    # The class's own docstring only: getdoc() would inherit dict's or BaseModel's, and a
    # dataclass's generated one just repeats the fields.
    doc = tp.__dict__.get('__doc__')
    doc = inspect.cleandoc(doc) if isinstance(doc, str) else None
    if doc and kind == 'dataclass' and doc.startswith(tp.__name__ + '('):
        doc = None
    named[name] = {'kind': kind, 'name': name, 'doc': doc, 'fields': fields}
    return {'kind': 'ref', 'name': name}


def describe(tp):
    if tp is inspect.Parameter.empty or tp is typing.Any:
        return {'kind': 'any'}
    if isinstance(tp, str):
        return {'kind': 'unknown', 'repr': tp}
    if tp in SCALARS:
        return {'kind': SCALARS[tp]}
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Union or type(tp).__name__ == 'UnionType':
        return {'kind': 'union', 'options': [describe(a) for a in args]}
    if origin is typing.Literal:
        return {'kind': 'literal', 'values': [v for v in args if isinstance(v, (str, int, bool))]}
    if getattr(origin, '__name__', None) == 'Annotated' or hasattr(tp, '__metadata__'):
        return describe(args[0]) if args else {'kind': 'any'}
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return {'kind': 'list', 'items': describe(args[0])}
        if args == ((),):
            return {'kind': 'tuple', 'items': []}
        return {'kind': 'tuple', 'items': [describe(a) for a in args]} if args \
            else {'kind': 'list', 'items': {'kind': 'any'}}
    oname = getattr(origin, '__name__', None) if origin is not None else None
    if oname in SEQUENCES:
        return {'kind': 'list', 'items': describe(args[0]) if args else {'kind': 'any'}}
    if oname in MAPPINGS:
        key = describe(args[0]) if args else {'kind': 'str'}
        return {'kind': 'dict', 'key': key, 'value': describe(args[1]) if len(args) > 1
                else {'kind': 'any'}}
    if isinstance(tp, type):
        if is_typeddict(tp):
            return describe_record(tp, 'typeddict')
        if dataclasses.is_dataclass(tp):
            return describe_record(tp, 'dataclass')
        if is_pydantic(tp):
            return describe_record(tp, 'pydantic')
        if issubclass(tp, enum.Enum):
            return {'kind': 'literal',
                    'values': [m.value for m in tp if isinstance(m.value, (str, int))]}
        if tp.__name__ in SEQUENCES:
            return {'kind': 'list', 'items': {'kind': 'any'}}
        if tp.__name__ in MAPPINGS:
            return {'kind': 'dict', 'key': {'kind': 'str'}, 'value': {'kind': 'any'}}
        for base, kind in SCALARS.items():  # subclasses of int, str, datetime...
            if base not in (object, NONE_TYPE) and issubclass(tp, base):
                return {'kind': kind}
    return {'kind': 'unknown', 'repr': repr(tp)}


def describe_task(task):
    fun = task.run
    try:
        sig = inspect.signature(fun)
    except (TypeError, ValueError):
        sig = None
    try:
        hints = typing.get_type_hints(fun)
    except Exception:  # unresolvable forward references: fall back to raw annotations
        hints = getattr(fun, '__annotations__', {}) or {}
    params = []
    if sig is not None:
        for p in sig.parameters.values():
            params.append({
                'name': p.name,
                'kind': p.kind.name.lower(),
                'has_default': p.default is not inspect.Parameter.empty,
                'type': describe(hints.get(p.name, inspect.Parameter.empty)),
            })
    return {
        'name': task.name,
        'module': getattr(fun, '__module__', None),
        'qualname': getattr(fun, '__qualname__', None),
        'doc': inspect.getdoc(fun),
        'params': params,
        'returns': describe(hints.get('return', inspect.Parameter.empty)),
    }


def main(argv):
    if len(argv) != 2:
        print('usage: introspect APP (as celery -A APP)', file=sys.stderr)
        return 2
    sys.path.insert(0, '')
    app = find_app(argv[1])
    app.loader.import_default_modules()
    tasks = sorted(
        (t for name, t in app.tasks.items() if not name.startswith('celery.')),
        key=lambda t: t.name)
    out = {
        'celery_version': celery.__version__,
        'python_version': sys.version.split()[0],
        'app': argv[1],
        'tasks': [describe_task(t) for t in tasks],
    }
    out['types'] = {k: v for k, v in sorted(named.items()) if v is not None}
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
`;
