"""Any tool list as the three things an agent needs: function schemas, a Python API, a guest API.

A tool source outside this project (an MCP server, a tools file) describes each tool by a name,
a description and a JSON Schema of its arguments (MCP's ``inputSchema``, OpenAI's and Mistral's
``parameters``), sometimes with a JSON Schema of its result (MCP's ``outputSchema``). From that
one description this module renders:

- ``function_schema(tool)``: the ``{"type": "function", "function": {...}}`` entry that tool
  calling sends every round, under a name Mistral accepts (``FUNCTION_NAME``), with the schema
  keywords Mistral's API refuses removed (``REFUSED_KEYWORDS``);
- ``python_api_text(tools)``: a compact typed Python API (one ``def`` per tool, a ``TypedDict``
  per nested object) that CodeAct shows once;
- ``guest_functions(tools)``: flat tool name -> ``GuestFunction`` for the sandbox's ``api``.

``ToolDef.problems`` says, one sentence each, what Mistral would refuse in the tool as the source
wrote it and what was done about it. Names: the function-calling name is the tool's own name when
Mistral accepts it, else the name with every other character replaced by ``_`` (cut to 64, made
unique); the Python name is that name made an identifier. ``ToolDef.argument_names`` maps the
Python parameter names back to the schema's, so ``api.x(from_=1)`` reaches the tool as
``{"from": 1}``.

Sources of the rules: Mistral's name pattern and the Draft 7 check are mistral-common's own
request validator (``MistralRequestValidator._validate_function``); ``$schema`` and ``$id`` are
refused by Mistral's API with "failed to compile JSON schema" (seen and worked around in LiteLLM,
BerriAI/litellm#13389, August 2025).
"""

from __future__ import annotations

import json
import keyword
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mistral_common.utils.json_utils import validate_json_schema_by_draft7

from engine.toolbox import GuestFunction

FUNCTION_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
REFUSED_KEYWORDS = ("$schema", "$id")
# Keywords whose value is a schema, a list of schemas, or a map of name -> schema: the walk that
# removes refused keywords only looks for keywords where a schema can stand.
_SCHEMA_VALUED = ("items", "additionalProperties", "not", "contains", "propertyNames", "if",
                  "then", "else", "additionalItems")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_JSON_TO_PY = {"string": "str", "integer": "int", "number": "float", "boolean": "bool",
               "null": "None", "array": "list", "object": "dict"}
_MAX_DEPTH = 12  # deeper schemas are shown as Any: a self-referencing $ref must not recurse forever


@dataclass
class ToolDef:
    """One tool as a tool source describes it, plus the names it gets here.

    - ``name``: the source's own name (what an MCP ``tools/call`` needs);
    - ``description``: one or more lines of text ("" if none);
    - ``input_schema``: JSON Schema of the arguments object, as the source sent it;
    - ``output_schema``: JSON Schema of the structured result, or None;
    - ``function_name``: the name tool calling uses (matches ``FUNCTION_NAME``);
    - ``python_name``: the name of ``api.<python_name>`` in CodeAct (an identifier);
    - ``argument_names``: Python parameter name -> schema property name, where they differ;
    - ``problems``: one sentence per thing Mistral would refuse (and what was done).
    """

    name: str
    description: str = ""
    input_schema: dict[str, Any] = field(default_factory=lambda: {"type": "object"})
    output_schema: dict[str, Any] | None = None
    function_name: str = ""
    python_name: str = ""
    argument_names: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def identifier(name: str) -> str:
    """``name`` as a Python identifier: other characters become ``_``, a keyword gets ``_``."""
    text = re.sub(r"\W", "_", name, flags=re.ASCII) or "_"
    if text[0].isdigit():
        text = "_" + text
    if keyword.iskeyword(text) or keyword.issoftkeyword(text):
        text += "_"
    return text


def _unique(name: str, taken: set[str], limit: int | None = None) -> str:
    base = name[:limit] if limit else name
    candidate, n = base, 2
    while candidate in taken:
        suffix = f"_{n}"
        candidate = (base[: limit - len(suffix)] if limit else base) + suffix
        n += 1
    taken.add(candidate)
    return candidate


def strip_refused(schema: Any) -> tuple[Any, list[str]]:
    """A copy of ``schema`` without the keywords Mistral refuses, and which ones were there."""
    found: list[str] = []

    def walk(node: Any, depth: int) -> Any:
        if not isinstance(node, dict) or depth > 64:
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in REFUSED_KEYWORDS:
                if key not in found:
                    found.append(key)
                continue
            if key in _SCHEMA_VALUED:
                out[key] = walk(value, depth + 1)
            elif key in _SCHEMA_LISTS and isinstance(value, list):
                out[key] = [walk(v, depth + 1) for v in value]
            elif key in _SCHEMA_MAPS and isinstance(value, dict):
                out[key] = {k: walk(v, depth + 1) for k, v in value.items()}
            else:
                out[key] = value
        return out

    return walk(schema, 0), found


def prepare(tools: Iterable[ToolDef]) -> list[ToolDef]:
    """Give every tool its function-calling and Python names and its problems (in place).

    Problems found: a name Mistral refuses (the tool is renamed), keywords Mistral refuses
    (removed from the schema sent), an arguments schema that is not an object or not valid
    JSON Schema Draft 7 (the tool is still listed; Mistral would refuse the request).
    """
    prepared = list(tools)
    fn_taken: set[str] = {t.name for t in prepared if FUNCTION_NAME.match(t.name)}
    py_taken: set[str] = set()
    for tool in prepared:
        if FUNCTION_NAME.match(tool.name):
            tool.function_name = tool.name
        else:
            tool.function_name = _unique(re.sub(r"[^a-zA-Z0-9_-]", "_", tool.name) or "tool",
                                         fn_taken, 64)
            tool.problems.append(
                f"Mistral refuses the name {tool.name!r} (it must match ^[a-zA-Z0-9_-]{{1,64}}$), "
                f"so tool calling sends it as {tool.function_name!r} and maps it back.")
        tool.python_name = _unique(identifier(tool.function_name), py_taken)
        cleaned, refused = strip_refused(tool.input_schema)
        if refused:
            tool.problems.append(
                f"Mistral refuses {' and '.join(refused)} in a tool schema, so tool calling "
                "sends the schema without them.")
        if not isinstance(tool.input_schema, dict) or tool.input_schema.get("type") not in (
                "object", None):
            tool.problems.append("Its arguments schema is not an object schema, which function "
                                 "calling needs; Mistral would refuse it.")
        else:
            try:
                validate_json_schema_by_draft7(cleaned)
            except ValueError as exc:
                tool.problems.append(f"Its arguments schema is not valid JSON Schema (Draft 7), "
                                     f"which Mistral checks: {_clip(str(exc), 120)}.")
        params = _properties(tool.input_schema)
        seen: set[str] = set()
        tool.argument_names = {}
        for prop in params:
            py = _unique(identifier(prop), seen)
            if py != prop:
                tool.argument_names[py] = prop
    return prepared


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split()).rstrip(".")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _properties(schema: Any) -> dict[str, Any]:
    if not isinstance(schema, dict):
        return {}
    props = schema.get("properties")
    return {str(k): (v if isinstance(v, dict) else {}) for k, v in props.items()} \
        if isinstance(props, dict) else {}


def function_schema(tool: ToolDef) -> dict[str, Any]:
    """The tool as a Mistral/OpenAI function-calling entry (call ``prepare`` first)."""
    schema, _ = strip_refused(tool.input_schema if isinstance(tool.input_schema, dict) else {})
    if not isinstance(schema, dict) or not schema:
        schema = {"type": "object", "properties": {}}
    return {"type": "function",
            "function": {"name": tool.function_name or tool.name,
                         "description": tool.description or "",
                         "parameters": schema}}


# -- the Python API ---------------------------------------------------------------------------
class _Renderer:
    """Turns JSON Schemas into Python type text, collecting the TypedDicts they need."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.classes: list[str] = []
        self.class_names: set[str] = set()
        self._refs: dict[str, str] = {}

    def type_of(self, schema: Any, hint: str, depth: int = 0) -> str:
        if not isinstance(schema, dict) or depth > _MAX_DEPTH:
            return "Any"
        if "$ref" in schema:
            return self._ref(str(schema["$ref"]), depth)
        if "const" in schema:
            return f"Literal[{_literal(schema['const'])}]"
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return "Literal[" + ", ".join(_literal(v) for v in schema["enum"]) + "]"
        for key in ("anyOf", "oneOf"):
            if isinstance(schema.get(key), list) and schema[key]:
                return _union(self.type_of(s, hint, depth + 1) for s in schema[key])
        if isinstance(schema.get("allOf"), list) and len(schema["allOf"]) == 1:
            return self.type_of(schema["allOf"][0], hint, depth + 1)
        kind = schema.get("type")
        if isinstance(kind, list):
            return _union(self.type_of({**schema, "type": k}, hint, depth + 1) for k in kind)
        if kind == "array":
            items = schema.get("items")
            return f"list[{self.type_of(items, hint + 'Item', depth + 1)}]" if items else "list"
        if kind == "object" or (kind is None and "properties" in schema):
            if _properties(schema):
                return self._typed_dict(schema, hint, depth)
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict) and extra:
                return f"dict[str, {self.type_of(extra, hint + 'Value', depth + 1)}]"
            return "dict"
        return _JSON_TO_PY.get(str(kind), "Any")

    def _ref(self, ref: str, depth: int) -> str:
        if ref in self._refs:
            return self._refs[ref]
        match = re.fullmatch(r"#/(\$defs|definitions)/(.+)", ref)
        target = self.root.get(match.group(1), {}).get(match.group(2)) if match else None
        if not isinstance(target, dict):
            return "Any"
        name = _class_name(match.group(2) if match else "Ref")
        self._refs[ref] = name  # before rendering: a schema may refer to itself
        rendered = self.type_of(target, name, depth + 1)
        if rendered != name:
            self._refs[ref] = rendered
        return self._refs[ref]

    def _typed_dict(self, schema: dict[str, Any], hint: str, depth: int) -> str:
        name = _class_name(hint)
        base, n = name, 2
        while name in self.class_names:
            name, n = f"{base}{n}", n + 1
        self.class_names.add(name)
        required = set(schema.get("required") or [])
        lines = [f"class {name}(TypedDict):"]
        for prop, sub in _properties(schema).items():
            kind = self.type_of(sub, name + _class_name(prop), depth + 1)
            if prop not in required:
                kind = f"NotRequired[{kind}]"
            line = f"    {prop if prop.isidentifier() else identifier(prop)}: {kind}"
            note = _param_note(sub)
            lines.append(line + (f"  # {note}" if note else ""))
        self.classes.append("\n".join(lines))
        return name


def _class_name(hint: str) -> str:
    parts = re.split(r"[^0-9a-zA-Z]+", hint)
    name = "".join(p[:1].upper() + p[1:] for p in parts if p)
    return identifier(name or "Object")


def _literal(value: Any) -> str:
    return repr(value) if isinstance(value, (str, int, float, bool)) or value is None \
        else repr(json.dumps(value))


def _union(kinds: Iterable[str]) -> str:
    seen: list[str] = []
    for k in kinds:
        for part in k.split(" | ") if "[" not in k else [k]:
            if part not in seen:
                seen.append(part)
    if "Any" in seen:
        return "Any"
    seen.sort(key=lambda k: k == "None")  # None last, as people write it
    return " | ".join(seen)


def _constraints(schema: dict[str, Any]) -> str:
    bits = []
    for key, text in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="),
                      ("exclusiveMaximum", "<"), ("minLength", "len>="), ("maxLength", "len<="),
                      ("minItems", "items>="), ("maxItems", "items<=")):
        if isinstance(schema.get(key), (int, float)) and not isinstance(schema.get(key), bool):
            bits.append(f"{text}{schema[key]}")
    if isinstance(schema.get("pattern"), str):
        bits.append(f"pattern {schema['pattern']}")
    if isinstance(schema.get("format"), str):
        bits.append(f"format {schema['format']}")
    return ", ".join(bits)


def _param_note(schema: dict[str, Any]) -> str:
    text = " ".join(str(schema.get("description") or "").split())
    limits = _constraints(schema)
    return f"{text} [{limits}]".strip() if limits else text


def _default(schema: dict[str, Any]) -> str:
    if "default" in schema:
        value = schema["default"]
        if value is None or isinstance(value, (str, int, float, bool)):
            return repr(value)
        return repr(value) if isinstance(value, (list, dict)) and len(repr(value)) < 40 else "..."
    return "None"


@dataclass
class PythonFunction:
    """One tool rendered as Python: its ``def`` (with the TypedDicts it needs first)."""

    tool: ToolDef
    text: str
    params: list[str]
    signature: str


def render_function(tool: ToolDef) -> PythonFunction:
    """One tool as a typed ``def`` with a docstring (call ``prepare`` first)."""
    schema = tool.input_schema if isinstance(tool.input_schema, dict) else {}
    renderer = _Renderer(schema)
    props = _properties(schema)
    required = [p for p in (schema.get("required") or []) if p in props]
    order = required + [p for p in props if p not in required]
    back = {v: k for k, v in tool.argument_names.items()}
    fn = tool.python_name or identifier(tool.name)
    args: list[str] = []
    notes: list[str] = []
    for prop in order:
        py = back.get(prop, prop)
        kind = renderer.type_of(props[prop], f"{fn}_{prop}")
        if prop in required:
            args.append(f"{py}: {kind}")
        else:
            default = _default(props[prop])
            if default == "None" and "None" not in kind.split(" | ") and kind != "Any":
                kind = f"{kind} | None"
            args.append(f"{py}: {kind} = {default}")
        note = _param_note(props[prop])
        if note:
            notes.append(f"{py}: {note}")
    result = "Any"
    if isinstance(tool.output_schema, dict) and tool.output_schema:
        out_renderer = _Renderer(tool.output_schema)
        inner = unwrapped_output(tool.output_schema)
        result = out_renderer.type_of(tool.output_schema if inner is None else inner,
                                      f"{fn}_result")
        renderer.classes.extend(out_renderer.classes)
    signature = f"{fn}({', '.join(args)}) -> {result}"
    doc_lines = [line.strip() for line in (tool.description or "").strip().splitlines()
                 if line.strip()] + notes
    body = f"def {signature}:"
    if doc_lines:
        doc = "\n    ".join(line.replace('"""', "'''") for line in doc_lines)
        body += f'\n    """{doc}"""'
    else:
        body += "\n    ..."
    text = "\n".join([*renderer.classes, body])
    return PythonFunction(tool, text, [back.get(p, p) for p in order], f"api.{signature}")


def unwrapped_output(output_schema: Any) -> dict[str, Any] | None:
    """The schema of ``result`` when ``output_schema`` only wraps one value in ``{"result":
    ...}`` (what the MCP SDK does for a tool returning a list, a number or text), else None."""
    if not isinstance(output_schema, dict):
        return None
    props = _properties(output_schema)
    if set(props) == {"result"} and "result" in (output_schema.get("required") or []):
        return props["result"]
    return None


def python_api_text(tools: Sequence[ToolDef], source: str = "the tool source") -> str:
    """All tools as one compact typed Python API, with a header saying how to call it."""
    functions = [render_function(t).text for t in tools]
    header = (
        f"# Python API of {source}: {len(tools)} functions. Call them as api.<name>(...), "
        "arguments by keyword\n"
        "# or in the order shown; a parameter shown with a default may be left out.\n"
        "# Each returns the tool's structured result as Python values (dict, list, ...) when "
        "it has one,\n# else its text (str), parsed as JSON when it is JSON. "
        "A failed call raises ToolError(message).\n"
        "from typing import Any, Literal, NotRequired, TypedDict"
    )
    return header + "\n" + "\n".join(functions) + "\n"


def guest_functions(tools: Sequence[ToolDef]) -> dict[str, GuestFunction]:
    """Flat tool name (the function-calling name) -> how the guest's ``api`` exposes it."""
    out: dict[str, GuestFunction] = {}
    for tool in tools:
        fn = render_function(tool)
        first = (tool.description or "").strip().splitlines()
        out[tool.function_name] = GuestFunction(
            path=tool.python_name, params=fn.params, signature=fn.signature,
            doc=first[0].strip() if first else "")
    return out


def arguments_for(tool: ToolDef, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The call's arguments under the schema's own names, without ``None`` left for "not
    given" (an optional parameter whose schema does not accept null)."""
    props = _properties(tool.input_schema)
    required = set((tool.input_schema or {}).get("required") or []) \
        if isinstance(tool.input_schema, dict) else set()
    out: dict[str, Any] = {}
    for key, value in arguments.items():
        name = tool.argument_names.get(key, key)
        if value is None and name in props and name not in required \
                and not _accepts_null(props[name]):
            continue
        out[name] = value
    return out


def _accepts_null(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list) and any(
                isinstance(s, dict) and _accepts_null(s) for s in schema[key]):
            return True
    return False
