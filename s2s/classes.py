"""Which class of the user's each local name of a core function holds, for method calls.

`m.apply(x)` and `m(x)` are calls of Python functions s2s reads and differentiates, once the
class of `m` is known. It is known from annotations, never from the values of a call, so
`s2s.source(f)` shows the same code that runs:

* a parameter annotated with a class (`model: MLP`), or with a list, tuple or dict of one
  (`layers: list[Linear]`, `tuple[Encoder, Decoder]`, `dict[str, Linear]`);
* `self`, the first parameter of a method s2s reads for a call on an object of a known class;
* a field read `m.layers` of a dataclass or NamedTuple, from the field's annotation;
* an item of a list, tuple or dict of a known class (so the variable of `for layer in
  self.layers:`, which the core reads as `layer = _1[i]`);
* the result of a constructor call `State(h, c)`, or of a function or method whose return
  is annotated (`-> State`);
* a parameter the caller passes a closure of a local function for: the closure's class
  (`functions.closure_class`, from the call that made it: `core.given_classes`).

A name every assignment of which gives the same class has that class (a flow-insensitive
fixpoint); any other name has none. Annotations are not checked by Python, so the generated
code checks, before each differentiated method call, that the object's class has the method
s2s differentiated (`check_method`); a wrong annotation is an error there, never a wrong
gradient.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import inspect
import sys
import typing
from dataclasses import dataclass
from typing import Any

import gast

from s2s.backends.namespace import is_library_class

from .normalize import CoreFunction


@dataclass(frozen=True)
class Seq:
    """A list (or a tuple of any length, or a Sequence) of `item`."""

    item: Any


@dataclass(frozen=True)
class Fixed:
    """A tuple of these classes, position by position."""

    items: tuple


@dataclass(frozen=True)
class Map:
    """A dict (or Mapping) whose values are `value`."""

    value: Any


#: a name with no class: some assignment gives something else
_TOP = object()


def is_user_function(obj: Any) -> bool:
    """A Python function of the user's: s2s reads and differentiates its source."""
    if not inspect.isfunction(obj):
        return False
    mod = getattr(obj, "__module__", "") or ""
    return mod.split(".")[0] not in ("numpy", "s2s", "scipy")


def is_user_class(obj: Any) -> bool:
    """A class of the user's: one whose methods s2s reads (not a builtin's or a library's;
    the same classes whose objects the runtime takes for records, `record_fields`)."""
    return isinstance(obj, type) and not is_library_class(obj)


def from_annotation(ann: Any, globals_: dict | None = None) -> Any:
    """The class fact an annotation gives: a class, `Seq`, `Fixed`, `Map`, or None (a
    `ForwardRef`, as NamedTuple keeps a string annotation, is evaluated in `globals_`)."""
    if isinstance(ann, typing.ForwardRef):
        ann = _evaluated(ann.__forward_arg__, globals_ or {})
    if isinstance(ann, type) and typing.get_origin(ann) is None:
        return ann if is_user_class(ann) else None
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    if origin in (list, collections.abc.Sequence, collections.abc.MutableSequence) and args:
        item = from_annotation(args[0], globals_)
        return None if item is None else Seq(item)
    if origin is tuple and args:
        if len(args) == 2 and args[1] is Ellipsis:
            item = from_annotation(args[0], globals_)
            return None if item is None else Seq(item)
        items = tuple(from_annotation(a, globals_) for a in args)
        return None if all(i is None for i in items) else Fixed(items)
    if origin in (dict, collections.abc.Mapping, collections.abc.MutableMapping) and len(args) == 2:
        value = from_annotation(args[1], globals_)
        return None if value is None else Map(value)
    return None


def _evaluated(ann: Any, globals_: dict, locals_: dict | None = None) -> Any:
    """An annotation as an object (a string one, `from __future__ import annotations`, is
    evaluated where it was written); None where it cannot be."""
    if isinstance(ann, str):
        try:
            return eval(ann, globals_, locals_ or {})  # noqa: S307 (the user's own annotation)
        except Exception:
            return None
    return ann


_ANNOTATIONS: dict[Any, dict[str, Any]] = {}


def function_annotations(fn: Any) -> dict[str, Any]:
    """The class facts of `fn`'s annotated parameters and of its return ('return')."""
    hit = _ANNOTATIONS.get(fn)
    if hit is not None:
        return hit
    try:
        raw = dict(getattr(fn, "__annotations__", None) or {})
    except Exception:  # an annotation naming something undefined (evaluated lazily)
        raw = {}
    closure = {}
    code = getattr(fn, "__code__", None)
    for k, cell in zip(code.co_freevars if code else (), fn.__closure__ or (), strict=False):
        try:
            closure[k] = cell.cell_contents
        except ValueError:
            continue
    globals_ = getattr(fn, "__globals__", {})
    out = {}
    for k, ann in raw.items():
        fact = from_annotation(_evaluated(ann, globals_, closure), globals_)
        if fact is not None:
            out[k] = fact
    _ANNOTATIONS[fn] = out
    return out


_FIELDS: dict[type, dict[str, Any]] = {}


def field_class(cls: type, attr: str) -> Any:
    """The class fact of field `attr` of `cls`, from its annotation in the class body (a
    dataclass's, a NamedTuple's, or any class's), or else, for a plain class, from the
    annotation of the `__init__` parameter of the same name (`self.norm = norm`: the usual
    way; `check_method` checks it where it matters)."""
    fields = _FIELDS.get(cls)
    if fields is None:
        fields = {}
        init = vars(cls).get("__init__") if not dataclasses.is_dataclass(cls) else None
        if inspect.isfunction(init):  # `def __init__(self, norm: Norm): self.norm = norm`
            for k, fact in function_annotations(init).items():
                if k != "return":
                    fields[k] = fact
        for klass in reversed(cls.__mro__):
            module = sys.modules.get(klass.__module__)  # (each class's own, for a base class)
            globals_ = vars(module) if module is not None else {}
            for k, ann in vars(klass).get("__annotations__", {}).items():
                fact = from_annotation(_evaluated(ann, globals_, dict(vars(klass))), globals_)
                if fact is None:
                    fields.pop(k, None)
                else:
                    fields[k] = fact
        _FIELDS[cls] = fields
    return fields.get(attr)


@dataclass(frozen=True)
class Method:
    """`recv.attr(...)` read as a call of the Python function `fn` of class `cls`."""

    cls: type
    attr: str
    fn: Any
    static: bool  # a staticmethod: the receiver is not passed


def display_name(core: CoreFunction) -> str:
    """The function's name as docstrings show it: `MLP.__call__` for a method."""
    qual = getattr(core.fn, "__qualname__", "") or ""
    return qual if "." in qual and "<locals>" not in qual else core.name


def is_namedtuple(cls: Any) -> bool:
    return isinstance(cls, type) and issubclass(cls, tuple) and hasattr(cls, "_fields")


def _plain_dataclass(cls: Any) -> bool:
    """A dataclass whose `__init__` is the one `dataclasses` wrote, with every field an
    argument and nothing run after (no `__post_init__`, no InitVar): making one sets each
    field to its argument, and nothing else."""
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        return False
    if not cls.__dataclass_params__.init or hasattr(cls, "__post_init__"):
        return False
    if not all(f.init for f in dataclasses.fields(cls)):
        return False
    if any(
        type(f.type) is dataclasses.InitVar
        for f in vars(cls).get("__dataclass_fields__", {}).values()
    ):
        return False
    init = vars(cls).get("__init__")
    code = getattr(init, "__code__", None)
    module = sys.modules.get(cls.__module__)
    own_file = getattr(module, "__file__", None)
    return code is not None and (own_file is None or code.co_filename != own_file)


def constructor_fields(cls: Any, args: list, keywords: dict) -> dict | None:
    """`State(h, c)` with `State` a NamedTuple or a plain dataclass (`_plain_dataclass`) of the
    user's: each field given, by name, with the atom it is set to; None for any other call
    (or one that does not bind: the primal raises Python's TypeError)."""
    if not is_user_class(cls) or not (is_namedtuple(cls) or _plain_dataclass(cls)):
        return None
    try:
        bound = inspect.signature(cls).bind(*args, **keywords)
    except (TypeError, ValueError):
        return None
    return dict(bound.arguments)


def unit_name(fn: Any, method: Method | None, functions: frozenset = frozenset()) -> str:
    """What the generated functions of a user function are named after: `helper`, or
    `Linear_call` for `Linear.__call__` (`fwd_Linear_call`, `jvp_Linear_call`); made for the
    functions a call passes (`functions.callee_functions`), their names follow:
    `layer_tanh`."""
    closure = vars(method.cls).get("__s2s_closure__") if method is not None else None
    if closure is not None:  # the `__call__` of a closure of a local function: `loss_f_call`
        base = f"{closure}_call"
    elif method is not None:
        base = f"{method.cls.__name__}_{method.attr.strip('_') or 'call'}"
    else:
        base = fn.__name__
    for _, f in sorted(functions, key=lambda pf: pf[0]):
        f_name = vars(f).get("__s2s_closure__") if isinstance(f, type) else None
        f_name = f_name or getattr(f, "__name__", "") or "f"
        base += "_" + f_name.strip("_").replace("<", "").replace(">", "")
    return base


def method_of(cls: Any, attr: str) -> Method | None:
    """The function `attr` of class `cls` that s2s can read, or None (a classmethod, a
    property, a builtin's method, or no such attribute)."""
    if not isinstance(cls, type):
        return None
    try:
        raw = inspect.getattr_static(cls, attr)
    except AttributeError:
        return None
    static = isinstance(raw, staticmethod)
    fn = raw.__func__ if static else raw
    if not inspect.isfunction(fn) or not is_user_function(fn):
        return None
    return Method(cls=cls, attr=attr, fn=fn, static=static)


def classes(core: CoreFunction) -> dict[str, Any]:
    """The class fact of each local name of `core` that has one (computed once per core)."""
    if core.classes is None:
        core.classes = _infer(core)
    return core.classes


def _is_local(core: CoreFunction, node: Any) -> bool:
    return isinstance(node, gast.Name) and node.id in core.locals


def _infer(core: CoreFunction) -> dict[str, Any]:
    from .analyze import walk_stmts  # (analyze calls this module: import at use)

    env: dict[str, Any] = {}
    facts = function_annotations(core.fn) if core.fn is not None else {}
    self_class = core.self_class
    given = core.given_classes or {}
    for i, p in enumerate(core.params):
        if i == 0 and self_class is not None:
            env[p] = self_class
        elif p in given:  # a closure the caller passes (`functions.closure_class`)
            env[p] = given[p]
        elif p in facts:
            env[p] = facts[p]
    assigns = []
    for s in walk_stmts(core.body):
        if isinstance(s, gast.For) and isinstance(s.target, gast.Name):
            env[s.target.id] = _TOP
        elif (
            isinstance(s, gast.Assign)
            and isinstance(s.targets[0], gast.Name)
            and not (isinstance(s.value, gast.Constant) and s.value.value is None)
        ):
            assigns.append((s.targets[0].id, s.value))
    if not any(v is not _TOP for v in env.values()) and not any(
        isinstance(v, gast.Call) for _, v in assigns
    ):
        return {}  # (most numeric code: no class anywhere)
    changed = True
    while changed:
        changed = False
        for target, value in assigns:
            fact = _value_fact(core, value, env)
            if fact is None:  # depends on a name not known yet
                continue
            old = env.get(target)
            new = fact if old is None or old == fact else _TOP
            if new != old:
                env[target] = new
                changed = True
    return {k: v for k, v in env.items() if v is not _TOP}


def _value_fact(core: CoreFunction, value: Any, env: dict) -> Any:
    """The class fact `value` gives, `_TOP` for none, None where it needs a name not known."""
    if _is_local(core, value):
        return env.get(value.id)
    if isinstance(value, gast.Attribute) and _is_local(core, value.value):
        base = env.get(value.value.id)
        if base is None:
            return None
        if isinstance(base, type):
            return field_class(base, value.attr) or _TOP
        return _TOP
    if isinstance(value, gast.Subscript) and _is_local(core, value.value):
        base = env.get(value.value.id)
        if base is None:
            return None
        index = value.slice
        if isinstance(base, Seq):
            return base if isinstance(index, gast.Slice) else base.item
        if isinstance(base, Map):
            return base.value
        if isinstance(base, Fixed):
            if isinstance(index, gast.Constant) and type(index.value) is int:
                try:
                    return base.items[index.value] or _TOP
                except IndexError:
                    return _TOP
        return _TOP
    if isinstance(value, gast.Call):
        f = value.func
        if isinstance(f, gast.Attribute) and _is_local(core, f.value):
            recv = env.get(f.value.id)
            if recv is None:
                return None
            m = method_of(recv, f.attr)
            return (function_annotations(m.fn).get("return") or _TOP) if m else _TOP
        if _is_local(core, f):
            return _TOP
        obj = core.namespace.resolve(f)
        if is_user_class(obj):
            return obj  # a constructor call
        if is_user_function(obj):
            return function_annotations(obj).get("return") or _TOP
    return _TOP


def split_field_calls(core: CoreFunction) -> None:
    """`self.norm(x)`, where `norm` is not a method of the class of `self` but a field holding
    an object of a known class: Python calls the field's value, so the core reads it first,
    `_k = self.norm; y = _k(x)` (and `_k`'s class is the field's). In place."""
    from .nodes import blocks
    from .normalize import assign, name

    facts = classes(core)
    if not facts:
        return
    for stmts in blocks(core.body):  # (each list is rewritten before its nested ones are read)
        out = []
        for s in stmts:
            call = s.value if isinstance(s, (gast.Assign, gast.Expr)) else None
            f = getattr(call, "func", None)
            if (
                isinstance(call, gast.Call)
                and isinstance(f, gast.Attribute)
                and not getattr(f, "s2s_global", False)
                and _is_local(core, f.value)
                and isinstance(facts.get(f.value.id), type)
                and method_of(facts[f.value.id], f.attr) is None
                and isinstance(field_class(facts[f.value.id], f.attr), type)
            ):
                tmp = core.fresh()
                read = gast.Attribute(value=name(f.value.id), attr=f.attr, ctx=gast.Load())
                out.append(assign(tmp, read, getattr(s, "s2s_line", None)))
                call.func = gast.Attribute(value=name(tmp), attr="__call__", ctx=gast.Load())
                call.func.s2s_implicit_call = True
                core.classes = None  # (`_k` has a class now)
            out.append(s)
        stmts[:] = out
