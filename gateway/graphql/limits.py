"""The weight of a document, and the limits it is held to before the standard validation rules run.

A document is weighed in one pass whose time is linear in its size: each fragment is weighed the first
time it is spread and its weight reused for every other spread. (Rules that walk into every spread,
as the depth and alias limiters shipped with Strawberry do, take exponential time on fragments that each
spread the next one twice.) What the pass finds over a limit is refused before graphql-core's rules
run, so those rules only ever see documents of a bounded expanded size:

- ``max_depth``: levels of nested selections (introspection fields aside, as graphql-depth-limit does);
- ``max_aliases``: aliased fields, counted once per expansion;
- ``max_cost``: every field costs 1, and what is under a list field costs as many times as the list may
  hold: ``first``/``last`` on any field that takes them (found in the schema, so a new connection is
  priced without code; the page maximum for a variable, the default page when absent), the number
  of ``_entities`` representations, and for introspection the sizes of this schema's lists. A
  document's expanded size (its fields with every fragment inlined) is bounded by the same setting;
- ``max_repeated_field``: fields of one response key merged into one selection set; the rule that
  checks they can be merged compares them pairwise;
- one ``__schema`` per operation: introspection answers are large.

The weight of each operation is cached with its document, its multipliers that are variables taken at
their maxima; an operation with such variables is weighed again, exactly, for each request that runs it,
and the operations of one request (a batch) share one budget. Each response says what its operation cost
and the limit (``extensions.cost { requested limit }``, as Shopify's API does).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    Node,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_introspection_query,
    get_named_type,
    parse,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef, TypeNameMetaFieldDef

from ..settings import Settings

PAGE_ARGUMENTS = ("first", "last")
REPRESENTATIONS = "representations"
INTROSPECTION_ROOTS = ("__schema", "__type")
MAX_INT_DIGITS = 10  # a page size or count written with more digits is simply "the most"


@dataclass(frozen=True)
class Limits:
    max_depth: int
    max_aliases: int
    max_cost: int
    max_repeated_field: int
    max_fragments: int
    max_page: int
    default_page: int
    max_entities: int
    # (introspection type, list field) -> the most items that list holds in this schema
    introspection_lists: Mapping[tuple[str, str], int] = field(default_factory=dict)
    # What one complete introspection of this schema weighs (the query GraphiQL and code generators send).
    introspection_allowance: int = 0

    @property
    def max_size(self) -> int:
        """The most fields a definition may expand to: the cost limit, plus one complete introspection."""
        return self.max_cost + self.introspection_allowance

    @classmethod
    def of(cls, settings: Settings, default_page: int, schema: GraphQLSchema) -> Limits:
        limits = cls(
            max_depth=settings.max_depth,
            max_aliases=settings.max_aliases,
            max_cost=settings.max_cost,
            max_repeated_field=settings.max_repeated_field,
            max_fragments=settings.max_fragments,
            max_page=settings.max_page_size,
            default_page=default_page,
            max_entities=settings.max_entities,
            introspection_lists=introspection_list_sizes(schema),
        )
        complete = parse(get_introspection_query(
            descriptions=True, specified_by_url=True, directive_is_repeatable=True, schema_description=True,
            input_value_deprecation=True))  # fmt: skip
        operation = next(d for d in complete.definitions if isinstance(d, OperationDefinitionNode))
        fragments = {d.name.value: d for d in complete.definitions if isinstance(d, FragmentDefinitionNode)}
        allowance = Weigher(schema, fragments, limits).operation(operation).introspection
        return replace(limits, introspection_allowance=allowance)


def introspection_list_sizes(schema: GraphQLSchema) -> dict[tuple[str, str], int]:
    """How long each introspection list is on average in this schema (rounded up), so that introspection
    is weighed by what it returns: ``__schema { types { fields { name } } }`` costs about as many
    fields as its answer holds, and nesting ``type { fields }`` again multiplies as its answer does."""
    types = list(schema.type_map.values())
    with_fields = [t for t in types if isinstance(t, GraphQLObjectType | GraphQLInterfaceType)]
    inputs = [t for t in types if isinstance(t, GraphQLInputObjectType)]
    unions = [t for t in types if isinstance(t, GraphQLUnionType)]
    fields = [f for t in with_fields for f in t.fields.values()]
    directives = list(schema.directives)

    def per(total: int, count: int) -> int:
        return max(1, -(-total // max(count, 1)))

    return {
        ("__Schema", "types"): len(types),
        ("__Schema", "directives"): len(directives),
        ("__Type", "fields"): per(len(fields), len(types)),
        ("__Type", "inputFields"): per(sum(len(t.fields) for t in inputs), len(types)),
        ("__Type", "enumValues"): per(sum(len(getattr(t, "values", {})) for t in types), len(types)),
        ("__Type", "interfaces"): per(sum(len(t.interfaces) for t in with_fields), len(types)),
        ("__Type", "possibleTypes"): per(sum(len(t.types) for t in unions), len(types)),
        ("__Field", "args"): per(sum(len(f.args) for f in fields), len(fields)),
        ("__Directive", "args"): per(sum(len(d.args) for d in directives), len(directives)),
    }


@dataclass
class Weight:
    """Of a selection set with its fragments expanded."""

    fields: int = 0
    cost: int = 0
    depth: int = 0
    aliases: int = 0
    schemas: int = 0  # __schema fields
    introspection: int = 0  # the part of the cost under __schema and __type
    representations: int = 0  # asked of _entities, each an upstream lookup
    by_variables: bool = False  # the cost depends on the variables' values
    keys: Counter[str] = field(default_factory=Counter)  # response keys merged at its top level

    def include(self, other: Weight, times: int = 1) -> None:
        """Adds a part merged into this selection set (an inline fragment, or ``times`` spreads of one
        fragment: merged once, however often it is spread here)."""
        self.fields += other.fields * times
        self.cost += other.cost * times
        self.depth = max(self.depth, other.depth)
        self.aliases += other.aliases * times
        self.schemas += other.schemas * times
        self.introspection += other.introspection * times
        self.representations += other.representations * times
        self.by_variables |= other.by_variables
        for key, count in other.keys.items():
            self.keys[key] += count * times


@dataclass(frozen=True)
class OperationWeight:
    cost: int  # of everything but introspection
    introspection: int
    representations: int
    by_variables: bool


@dataclass
class Repeated:
    key: str
    times: int
    node: SelectionSetNode


class Weigher:
    """Weighs the definitions of one document; ``variables`` None takes each variable at its maximum."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        limits: Limits,
        variables: Mapping[str, Any] | None = None,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.limits = limits
        self.variables = variables
        self._weighed: dict[str, Weight] = {}
        self.repeated: list[Repeated] = []
        for name in _dependencies_first(fragments):
            self._weighed[name] = self._selections(fragments[name].selection_set, self._condition(fragments[name]))

    def operation(self, operation: OperationDefinitionNode) -> Weight:
        root = self.schema.get_root_type(operation.operation)
        return self._selections(operation.selection_set, root)

    def fragment(self, name: str) -> Weight:
        """Fragments are weighed before anything spreads them, each once; one not weighed yet is part of
        a cycle (which validation reports), or unknown, and weighs nothing."""
        return self._weighed.get(name) or Weight()

    def _condition(self, definition: FragmentDefinitionNode) -> GraphQLNamedType | None:
        return self.schema.get_type(definition.type_condition.name.value)

    def _selections(self, selections: SelectionSetNode, parent: GraphQLNamedType | None) -> Weight:
        weight = self._merged(selections, parent)
        if weight.keys:
            key, times = weight.keys.most_common(1)[0]
            if times > self.limits.max_repeated_field:
                self.repeated.append(Repeated(key, times, selections))
        return weight

    def _merged(self, selections: SelectionSetNode, parent: GraphQLNamedType | None) -> Weight:
        """The selection set and what inline fragments and spreads merge into it."""
        weight = Weight()
        spreads: Counter[str] = Counter()
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                self._field(selection, parent, weight)
            elif isinstance(selection, InlineFragmentNode):
                condition = parent
                if selection.type_condition is not None:
                    condition = self.schema.get_type(selection.type_condition.name.value)
                weight.include(self._merged(selection.selection_set, condition))
            elif isinstance(selection, FragmentSpreadNode):
                spreads[selection.name.value] += 1
        for name, times in spreads.items():
            weight.include(self.fragment(name), times)
        return weight

    def _field(self, node: FieldNode, parent: GraphQLNamedType | None, weight: Weight) -> None:
        name = node.name.value
        definition = _field_definition(self.schema, parent, name)
        weight.keys[node.alias.value if node.alias else name] += 1
        weight.fields += 1
        weight.cost += 1
        weight.aliases += node.alias is not None
        weight.schemas += name == "__schema"
        if node.selection_set is None:
            return
        child = get_named_type(definition.type) if definition is not None else None
        below = self._selections(node.selection_set, child)
        multiplier = self._multiplier(node, definition, parent)
        weight.fields += below.fields
        weight.cost += multiplier * below.cost
        if not name.startswith("__"):
            weight.depth = max(weight.depth, 1 + below.depth)
        weight.aliases += below.aliases
        weight.schemas += below.schemas
        weight.introspection += 1 + below.cost if name in INTROSPECTION_ROOTS else below.introspection
        weight.representations += below.representations + (multiplier if name == "_entities" else 0)
        weight.by_variables |= below.by_variables or self._by_variables(node, definition)

    def _multiplier(self, node: FieldNode, definition: GraphQLField | None, parent: GraphQLNamedType | None) -> int:
        """How many items the field may return; each carries its sub-selection."""
        if definition is None:
            return 1
        if parent is not None and parent.name.startswith("__"):
            return self.limits.introspection_lists.get((parent.name, node.name.value), 1)
        if is_paged(definition):
            pages = [a.value for a in node.arguments or () if a.name.value in PAGE_ARGUMENTS]
            return max((self._count(page, self.limits.max_page) for page in pages), default=self.limits.default_page)
        if node.name.value == "_entities":
            counts = [self._length(a.value) for a in node.arguments or () if a.name.value == REPRESENTATIONS]
            return max(counts, default=1)
        return 1

    def _count(self, value: ValueNode, maximum: int) -> int:
        """A page size: as written, the request's variable, or the maximum when not known."""
        number: object = None
        if isinstance(value, IntValueNode):
            number = int(value.value) if len(value.value) <= MAX_INT_DIGITS else maximum
        elif isinstance(value, VariableNode):
            number = self._variable(value, maximum)
        if number is None:  # null: the default page
            return self.limits.default_page
        if isinstance(number, float) and number.is_integer():
            number = int(number)  # graphql-core takes 100.0 for an Int
        if not isinstance(number, int) or isinstance(number, bool):
            return maximum  # refused when the variable is coerced; until then, the most it could be
        return max(1, min(number, maximum))

    def _length(self, value: ValueNode) -> int:
        """How many representations: as written, in the request's variable, or the most allowed."""
        maximum = self.limits.max_entities
        if isinstance(value, ListValueNode):
            return max(1, min(len(value.values), maximum))
        if isinstance(value, VariableNode):
            given = self._variable(value, None)
            return max(1, min(len(given), maximum)) if isinstance(given, list) else maximum
        return maximum

    def _variable(self, node: VariableNode, unknown: object) -> object:
        """The request's value of a variable; ``unknown`` when weighing without variables or when the
        request leaves it out (its default may be anything up to the maximum)."""
        if self.variables is None or node.name.value not in self.variables:
            return unknown
        return self.variables[node.name.value]

    def _by_variables(self, node: FieldNode, definition: GraphQLField | None) -> bool:
        if definition is None:
            return False
        counted = (*PAGE_ARGUMENTS, REPRESENTATIONS)
        return any(isinstance(a.value, VariableNode) and a.name.value in counted for a in node.arguments or ())


def is_paged(definition: GraphQLField) -> bool:
    """A list paged by ``first``/``last``: its cost is its page size (``default_page`` when not given)
    times its sub-selection. Read from the schema, so a new connection is priced without code."""
    return any(argument in definition.args for argument in PAGE_ARGUMENTS)


def paged_fields(schema: GraphQLSchema) -> set[str]:
    """Every paged field of the schema, as ``Type.field``."""
    return {
        f"{named.name}.{name}"
        for named in schema.type_map.values()
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType) and not named.name.startswith("__")
        for name, definition in named.fields.items()
        if is_paged(definition)
    }


def cost_report(requested: int, limits: Limits) -> dict[str, int]:
    """What a response says of its cost (``extensions.cost``, as Shopify's API does): the operation's cost
    as charged (page sizes as the request gave them, introspection aside) and the limit it is held to."""
    return {"requested": requested, "limit": limits.max_cost}


def _spreads(selections: SelectionSetNode, found: list[str]) -> list[str]:
    for selection in selections.selections:
        if isinstance(selection, FragmentSpreadNode):
            found.append(selection.name.value)
        elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set is not None:
            _spreads(selection.selection_set, found)
    return found


def _dependencies_first(fragments: Mapping[str, FragmentDefinitionNode]) -> list[str]:
    """The fragments in an order where each comes after those it spreads (but for cycles), found without
    recursion: a chain of fragments each spreading the next is as deep as the document is long."""
    spreads = {name: _spreads(definition.selection_set, []) for name, definition in fragments.items()}
    order: list[str] = []
    seen: set[str] = set()
    for start in fragments:
        if start in seen:
            continue
        seen.add(start)
        stack = [(start, iter(spreads[start]))]
        while stack:
            name, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                order.append(name)
            elif child in fragments and child not in seen:
                seen.add(child)
                stack.append((child, iter(spreads[child])))
    return order


def _field_definition(schema: GraphQLSchema, parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    if name == "__typename":
        return TypeNameMetaFieldDef
    if parent is not None and parent is schema.query_type:
        if name == "__schema":
            return SchemaMetaFieldDef
        if name == "__type":
            return TypeMetaFieldDef
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        found: GraphQLField | None = parent.fields.get(name)
        return found
    return None


def operation_label(operation: OperationDefinitionNode) -> str:
    return operation.name.value if operation.name else "anonymous"


MAX_ERRORS = 10  # locating an error in the source is linear: a thousand of them would be quadratic


def check_limits(
    schema: GraphQLSchema, document: Any, limits: Limits
) -> tuple[list[GraphQLError], dict[str | None, OperationWeight]]:
    """The limits the document's definitions are over (the first ``MAX_ERRORS``), and each operation's
    weight with its variables at their maxima (charged per request, by ``charge``)."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    if len(fragments) > limits.max_fragments:  # graphql-core compares the fragments of a selection pairwise
        message = (f"The document defines {len(fragments)} fragments, over the limit of {limits.max_fragments} "
                   "(setting max_fragments).")  # fmt: skip
        return [GraphQLError(message)], {}
    weigher = Weigher(schema, fragments, limits)
    problems: list[tuple[str, Node]] = []
    costs: dict[str | None, OperationWeight] = {}
    for name, definition in fragments.items():
        if (fields := weigher.fragment(name).fields) > limits.max_size:
            problems.append((f"Fragment '{name}' expands to {fields} fields, over the limit of {limits.max_size} "
                             "(setting max_cost).", definition))  # fmt: skip
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        weight = weigher.operation(definition)
        data_cost = weight.cost - weight.introspection
        costs[definition.name.value if definition.name else None] = OperationWeight(
            data_cost, weight.introspection, weight.representations, weight.by_variables
        )
        problems.extend((message, definition) for message in _over(weight, operation_label(definition), limits))
    for repeated in weigher.repeated:
        problems.append((
            f"'{repeated.key}' is selected {repeated.times} times in one selection set, over the limit of "
            f"{limits.max_repeated_field} (setting max_repeated_field); give the selections distinct aliases.",
            repeated.node))  # fmt: skip
    return [GraphQLError(message, node) for message, node in problems[:MAX_ERRORS]], costs


def _over(weight: Weight, label: str, limits: Limits) -> Iterator[str]:
    if weight.depth > limits.max_depth:
        yield (f"Operation '{label}' is {weight.depth} levels deep, over the limit of {limits.max_depth} "
               "(setting max_depth).")  # fmt: skip
    if weight.aliases > limits.max_aliases:
        yield (f"Operation '{label}' has {weight.aliases} aliases, over the limit of {limits.max_aliases} "
               "(setting max_aliases).")  # fmt: skip
    if weight.schemas > 1:
        yield f"Operation '{label}' selects __schema {weight.schemas} times; introspect once per operation."
    if weight.introspection > limits.introspection_allowance:
        yield (f"Introspection in operation '{label}' costs {weight.introspection}, more than one complete "
               f"introspection of this schema ({limits.introspection_allowance}).")  # fmt: skip
    if weight.fields > limits.max_size:
        yield (f"Operation '{label}' expands to {weight.fields} fields, over the limit of {limits.max_size} "
               "(setting max_cost).")  # fmt: skip


@dataclass
class Spent:
    """What the operations of one HTTP request have weighed so far: a batch shares one budget."""

    cost: int = 0
    introspection: int = 0
    representations: int = 0


def charge(
    schema: GraphQLSchema,
    document: Any,
    operation: OperationDefinitionNode,
    weight: OperationWeight,
    limits: Limits,
    variables: Mapping[str, Any] | None,
    spent: Spent,
) -> tuple[int, GraphQLError | None]:
    """Charges the operation this request runs to the request's budget, weighed with its variables when
    they count: its cost, and the error when it does not fit."""
    label = operation_label(operation)
    cost, representations = weight.cost, weight.representations
    if weight.by_variables:  # exact, so that what a batch's later operations may spend is exact too
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        exact = Weigher(schema, fragments, limits, variables or {}).operation(operation)
        cost, representations = exact.cost - exact.introspection, exact.representations
    if spent.representations + representations > limits.max_entities:
        total = spent.representations + representations
        earlier = f" (with the batch's earlier operations, {total})" if spent.representations else ""
        return cost, GraphQLError(
            f"Operation '{label}' asks _entities for {representations} representations{earlier}; one request may "
            f"ask for at most {limits.max_entities} (setting max_entities).",
            operation,
        )
    if spent.cost + cost > limits.max_cost:
        earlier = f" and the batch's earlier operations {spent.cost}" if spent.cost else ""
        return cost, GraphQLError(
            f"Operation '{label}' costs {cost}{earlier}, over the limit of {limits.max_cost} (setting max_cost); "
            "ask for fewer items per page or fewer nested fields.",
            operation,
        )
    if spent.introspection + weight.introspection > limits.introspection_allowance:
        return cost, GraphQLError(
            f"Introspection in operation '{label}' would make this request introspect more than the schema once; "
            "send one introspection per request.",
            operation,
        )
    spent.cost += cost
    spent.introspection += weight.introspection
    spent.representations += representations
    return cost, None
