# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation and normalisation of the Plinth environment config (docs/config.md).

A small declarative schema engine (``Spec``) plus the Plinth schema and the subnet planner.
Everything is pure Python so the same code runs in the module and in the action plugin.

``validate_platform(raw)`` returns ``(config, errors)``: ``errors`` lists every problem found
(never just the first), each naming the full key path, the offending value and what is expected;
``config`` is the normalised config (defaults filled in, subnets planned) and is only meaningful
when ``errors`` is empty.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

ROOT = "platform"

_MISSING = object()

# What a message shows instead of a value below a sensitive spec (Spec.sensitive).
HIDDEN = "(value hidden)"

# CloudWatch Logs PutRetentionPolicy accepts only these values (days).
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)

EKS_AMI_TYPES = (
    "AL2_x86_64",
    "AL2_x86_64_GPU",
    "AL2_ARM_64",
    "AL2023_x86_64_STANDARD",
    "AL2023_ARM_64_STANDARD",
    "AL2023_x86_64_NEURON",
    "AL2023_x86_64_NVIDIA",
    "AL2023_ARM_64_NVIDIA",
    "BOTTLEROCKET_x86_64",
    "BOTTLEROCKET_ARM_64",
    "BOTTLEROCKET_x86_64_NVIDIA",
    "BOTTLEROCKET_ARM_64_NVIDIA",
    "BOTTLEROCKET_x86_64_FIPS",
    "BOTTLEROCKET_ARM_64_FIPS",
    "WINDOWS_CORE_2019_x86_64",
    "WINDOWS_FULL_2019_x86_64",
    "WINDOWS_CORE_2022_x86_64",
    "WINDOWS_FULL_2022_x86_64",
)

EKS_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
EKS_DEFAULT_ADDONS = ("vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver")

# Tags Plinth sets itself on every resource; a config may not override them.
RESERVED_TAGS = ("Name", "Environment", "ManagedBy")

# Planning order of the subnet tiers, and how much longer than the VPC's their default prefix is.
SUBNET_TIERS = ("private", "public", "database")
_TIER_PREFIX_DELTA = {"private": 4, "public": 8, "database": 8}
# AWS subnet prefix lengths are /16../28.
MAX_SUBNET_PREFIX = 28
VPC_PREFIX_RANGE = (16, 24)

_KIND_NAMES = {
    "str": "a string",
    "int": "an integer",
    "bool": "a boolean",
    "list": "a list",
    "dict": "a mapping",
}

_TYPE_NAMES = {
    bool: "a boolean",
    int: "an integer",
    float: "a float",
    str: "a string",
    list: "a list",
    dict: "a mapping",
    type(None): "null",
}


def describe(value: Any, limit: int = 80) -> str:
    """The value as it appears in a message: its repr, shortened when long."""
    text = repr(_plain(value))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _plain(value: Any) -> Any:
    """Strip subclasses (e.g. Ansible's tagged str/dict) so reprs read like the YAML given."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, Mapping):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _type_name(value: Any) -> str:
    for typ, name in _TYPE_NAMES.items():
        if isinstance(value, typ):
            return name
    return type(value).__name__


def child(path: str, key: Any) -> str:
    """Key path of a mapping entry: ``a.b`` for plain keys, ``a['x.y/z']`` otherwise."""
    if isinstance(key, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", key):
        return f"{path}.{key}"
    return f"{path}[{describe(key)}]"


def item(path: str, index: int) -> str:
    return f"{path}[{index}]"


class Context:
    """Collects errors and remembers which key paths were invalid (to skip dependent rules)."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self._bad: set[str] = set()
        self.root: dict[str, Any] = {}
        # Every string found below a sensitive spec (what a module must mask in its output).
        self.secrets: set[str] = set()
        self._hiding = 0

    def error(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")
        self._bad.add(path)

    def valid(self, *paths: str) -> bool:
        """True when no error was reported at, or below, any of ``paths``."""
        for path in paths:
            for bad in self._bad:
                if bad == path or bad.startswith((path + ".", path + "[")):
                    return False
        return True

    @contextlib.contextmanager
    def sensitive(self, value: Any) -> Iterator[None]:
        """Below a sensitive spec: remember the value's strings and quote no value in messages."""
        self.secrets.update(_strings(value))
        self._hiding += 1
        try:
            yield
        finally:
            self._hiding -= 1

    @property
    def hiding(self) -> bool:
        """True below a sensitive spec."""
        return self._hiding > 0

    def show(self, value: Any) -> str:
        """``describe(value)``, or ``HIDDEN`` below a sensitive spec: the path still names it."""
        return HIDDEN if self.hiding else describe(value)


def _strings(value: Any) -> Iterator[str]:
    """The non-empty strings in a raw value (mapping values, list items, the value itself)."""
    if isinstance(value, str):
        if value:
            yield str(value)
    elif isinstance(value, Mapping):
        for sub in value.values():
            yield from _strings(sub)
    elif isinstance(value, (list, tuple)):
        for sub in value:
            yield from _strings(sub)


Check = Callable[[Any, str, Context], None]
Rule = Callable[[dict, str, Context], None]
Default = Callable[[Context, dict], Any]


@dataclass(frozen=True)
class Spec:
    """Declarative description of one value.

    ``kind`` is str/int/bool/list/dict. Dicts have either ``fields`` (known keys,
    anything else is an error) or ``values`` (free-form keys, every value checked) or neither
    (any mapping). ``default`` is a value or a callable ``(ctx, parent) -> value``; a field with
    neither ``required`` nor ``default`` is left out when absent. ``nullable`` accepts ``null``.
    ``check`` runs on a value that passed the type checks; ``rules`` run on a normalised dict
    after all its fields, for cross-field constraints. ``sensitive`` marks a value that may hold a
    secret (a URL with a token in it): no message quotes it or anything below it, only its key
    path (checks and rules of such a spec quote values through ``ctx.show``).
    """

    kind: str
    required: bool = False
    default: Any = _MISSING
    nullable: bool = False
    choices: tuple[Any, ...] | None = None
    pattern: str | None = None
    expect: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    items: Spec | None = None
    unique: bool = False
    unique_key: str | None = None
    fields: Mapping[str, Spec] | None = None
    values: Spec | None = None
    check: Check | None = None
    rules: tuple[Rule, ...] = field(default_factory=tuple)
    sensitive: bool = False


def normalise(spec: Spec, value: Any, path: str, ctx: Context) -> Any:
    """Check ``value`` against ``spec``, report problems to ``ctx``, return the normalised value.

    Invalid values are returned as given; ``ctx.valid(path)`` tells callers whether to trust it.
    """
    if not spec.sensitive:
        return _normalise_value(spec, value, path, ctx)
    with ctx.sensitive(value):
        return _normalise_value(spec, value, path, ctx)


def _normalise_value(spec: Spec, value: Any, path: str, ctx: Context) -> Any:
    if value is None and spec.nullable:
        return None
    if not _type_ok(spec.kind, value):
        hint = ""
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if spec.kind == "str" and number and not ctx.hiding:
            hint = f' (quote it: "{value}")'
        ctx.error(
            path,
            f"{ctx.show(value)} is {_type_name(value)}, expected {_KIND_NAMES[spec.kind]}{hint}",
        )
        return value
    if spec.kind == "dict" and (spec.fields is not None or spec.values is not None):
        result = _normalise_dict(spec, value, path, ctx)
    elif spec.kind == "list":
        result = _normalise_list(spec, value, path, ctx)
    elif spec.kind == "dict":
        result = _plain(value)
    else:
        result = _plain(value)
        _check_scalar(spec, result, path, ctx)
    if spec.check is not None and ctx.valid(path):
        spec.check(result, path, ctx)
    # Rules run even below other errors: each checks the validity of the fields it reads.
    if isinstance(result, dict):
        for rule in spec.rules:
            rule(result, path, ctx)
    return result


def _type_ok(kind: str, value: Any) -> bool:
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "str":
        return isinstance(value, str)
    if kind == "list":
        return isinstance(value, (list, tuple))
    if kind == "dict":
        return isinstance(value, Mapping)
    raise ValueError(f"unknown spec kind {kind!r}")


def _check_scalar(spec: Spec, value: Any, path: str, ctx: Context) -> None:
    if spec.choices is not None and value not in spec.choices:
        options = ", ".join(str(c) for c in spec.choices)
        ctx.error(path, f"{ctx.show(value)} is not one of: {options}")
        return
    if spec.pattern is not None and not re.fullmatch(spec.pattern, value):
        ctx.error(path, f"{ctx.show(value)} is not {spec.expect or 'matching ' + spec.pattern}")
        return
    if spec.kind == "int":
        low, high = spec.minimum, spec.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            if high is None:
                expected = f"at least {low}"
            elif low is None:
                expected = f"at most {high}"
            else:
                expected = f"between {low} and {high}"
            ctx.error(path, f"{ctx.show(value)} is out of range, expected {expected}")


def _normalise_dict(spec: Spec, value: Mapping, path: str, ctx: Context) -> dict:
    result: dict[str, Any] = {}
    if spec.values is not None:
        for key, sub in value.items():
            key_path = child(path, key)
            if not isinstance(key, str):
                ctx.error(key_path, f"key {describe(key)} is {_type_name(key)}, expected a string")
                continue
            result[str(key)] = normalise(spec.values, sub, key_path, ctx)
        return result
    fields: Mapping[str, Spec] = spec.fields or {}
    for key in value:
        if key not in fields:
            known = ", ".join(fields)
            ctx.error(child(path, key), f"unknown key {describe(key)}, expected one of: {known}")
    # Defaults that depend on another section (network.nat on environment) read the root as it is
    # built; fields are filled in the order of the spec, so environment comes before network.
    if path == ROOT:
        ctx.root = result
    for name, sub_spec in fields.items():
        key_path = child(path, name)
        if name in value:
            result[name] = normalise(sub_spec, value[name], key_path, ctx)
        elif sub_spec.required:
            ctx.error(key_path, f"is required, expected {_describe_spec(sub_spec)}")
        elif sub_spec.default is not _MISSING:
            default = sub_spec.default
            default = default(ctx, result) if callable(default) else _copy(default)
            # Sections with fields get their own defaults filled in from an empty mapping.
            if isinstance(default, dict) and sub_spec.fields is not None:
                default = normalise(sub_spec, default, key_path, ctx)
            result[name] = default
    return result


def _describe_spec(spec: Spec) -> str:
    if spec.choices is not None:
        return "one of: " + ", ".join(str(c) for c in spec.choices)
    return spec.expect or _KIND_NAMES[spec.kind]


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_copy(v) for v in value]
    return value


def _normalise_list(spec: Spec, value: list | tuple, path: str, ctx: Context) -> list:
    count = len(value)
    if spec.minimum is not None and count < spec.minimum:
        ctx.error(path, f"{ctx.show(value)} has {count} items, expected at least {spec.minimum}")
    if spec.maximum is not None and count > spec.maximum:
        ctx.error(path, f"{ctx.show(value)} has {count} items, expected at most {spec.maximum}")
    result = []
    for index, sub in enumerate(value):
        sub_path = item(path, index)
        normalised = normalise(spec.items, sub, sub_path, ctx) if spec.items else _plain(sub)
        result.append(normalised)
    if spec.unique or spec.unique_key:
        seen: dict[Any, int] = {}
        for index, entry in enumerate(result):
            sub_path = item(path, index)
            if spec.unique_key:
                if not isinstance(entry, dict) or not ctx.valid(child(sub_path, spec.unique_key)):
                    continue
                key = entry.get(spec.unique_key)
                if key is None:
                    continue
                sub_path = child(sub_path, spec.unique_key)
            elif not ctx.valid(sub_path):
                continue
            else:
                key = entry
            try:
                first = seen.setdefault(key, index)
            except TypeError:  # unhashable (already reported as a type error)
                continue
            if first != index:
                ctx.error(sub_path, f"{ctx.show(key)} is a duplicate of {item(path, first)}")
    return result


# --- Plinth-specific checks -------------------------------------------------------------------


def _ipv4_network(value: str, path: str, ctx: Context) -> ipaddress.IPv4Network | None:
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        ctx.error(path, f"{describe(value)} is not a valid CIDR")
        return None
    if network.version != 4 or "/" not in value:
        ctx.error(path, f"{describe(value)} is not a valid CIDR (expected IPv4 a.b.c.d/n)")
        return None
    if str(network) != value:
        ctx.error(path, f"{describe(value)} has host bits set, expected {network}")
        return None
    return network


def _check_cidr(value: str, path: str, ctx: Context) -> None:
    _ipv4_network(value, path, ctx)


def _check_vpc_cidr(value: str, path: str, ctx: Context) -> None:
    network = _ipv4_network(value, path, ctx)
    low, high = VPC_PREFIX_RANGE
    if network is not None and not low <= network.prefixlen <= high:
        ctx.error(
            path, f"{describe(value)} has prefix /{network.prefixlen}, expected /{low}../{high}"
        )


def _check_tags(value: dict, path: str, ctx: Context) -> None:
    for key, tag_value in value.items():
        key_path = child(path, key)
        if key in RESERVED_TAGS:
            ctx.error(key_path, f"{describe(key)} is set by Plinth and may not be overridden")
        elif key.lower().startswith("aws:"):
            ctx.error(key_path, f"{describe(key)} uses the reserved 'aws:' prefix")
        elif not 1 <= len(key) <= 128:
            ctx.error(key_path, f"{describe(key)} is not 1..128 characters long")
        elif len(tag_value) > 256:
            ctx.error(key_path, f"{describe(tag_value)} is longer than 256 characters")


def _rule_platform(config: dict, path: str, ctx: Context) -> None:
    region_path = child(path, "region")
    dr_path = child(path, "dr_region")
    azs_path = child(path, "availability_zones")
    region = config.get("region")
    if ctx.valid(region_path, dr_path) and config.get("dr_region") == region:
        ctx.error(dr_path, f"{describe(region)} must differ from platform.region")
    zones = config.get("availability_zones")
    if ctx.valid(region_path) and isinstance(zones, list) and isinstance(region, str):
        for index, zone in enumerate(zones):
            zone_path = item(azs_path, index)
            if ctx.valid(zone_path) and not zone.startswith(region):
                ctx.error(
                    zone_path,
                    f"{describe(zone)} is not in region {describe(region)}"
                    f" (expected a name starting with {region})",
                )
    network_path = child(path, "network")
    network = config.get("network")
    if (
        isinstance(network, dict)
        and "cidr" in network
        and ctx.valid(azs_path, child(network_path, "cidr"))
    ):
        network["subnets"] = plan_subnets(
            network["cidr"], config["availability_zones"], network["subnets"], network_path, ctx
        )
    if isinstance(network, dict) and "dr" in network:
        network["dr"] = _plan_dr_network(config, network, network_path, ctx)


def _wants_dr_network(config: dict) -> bool:
    databases = config.get("databases")
    return bool(config.get("dr_region")) and any(
        isinstance(db, dict) and (db.get("dr_replica") or {}).get("enabled")
        for db in (databases.values() if isinstance(databases, dict) else ())
    )


def _plan_dr_network(
    config: dict, network: dict, network_path: str, ctx: Context
) -> dict[str, Any] | None:
    """The DR region's network, or None when no DR replica needs one.

    Defaults: the CIDR block of the primary's size right after it, the DR region's zones with the
    primary's zone letters, no NAT (the database tier needs no egress), the primary's ALB CIDRs
    and S3 endpoint setting (the same security-group chain, ready for a failover stack).
    """
    dr = network["dr"]
    path = child(network_path, "dr")
    if not isinstance(dr, dict) or not _wants_dr_network(config):
        return None
    if not ctx.valid(
        child(ROOT, "dr_region"),
        child(ROOT, "availability_zones"),
        child(network_path, "cidr"),
        path,
    ):
        return dr
    dr_region = config["dr_region"]
    primary = ipaddress.IPv4Network(network["cidr"])
    cidr_path = child(path, "cidr")
    if dr["cidr"] is None:
        start = int(primary.network_address) + primary.num_addresses
        if start + primary.num_addresses > 2**32:
            ctx.error(cidr_path, f"has no default after {primary}: set one")
            return dr
        dr["cidr"] = str(ipaddress.IPv4Network((start, primary.prefixlen)))
    elif ipaddress.IPv4Network(dr["cidr"]).overlaps(primary):
        ctx.error(
            cidr_path,
            f"{describe(dr['cidr'])} overlaps platform.network.cidr ({primary}):"
            " the DR VPC needs its own range (to peer or route between them)",
        )
        return dr
    azs_path = child(path, "availability_zones")
    if dr["availability_zones"] is None:
        dr["availability_zones"] = [dr_region + z[-1] for z in config["availability_zones"]]
    for index, zone in enumerate(dr["availability_zones"]):
        if not zone.startswith(dr_region):
            ctx.error(
                item(azs_path, index),
                f"{describe(zone)} is not in platform.dr_region {describe(dr_region)}",
            )
    if not ctx.valid(azs_path):
        return dr
    dr["alb_ingress_cidrs"] = network["alb_ingress_cidrs"]
    dr["s3_endpoint"] = network["s3_endpoint"]
    dr["subnets"] = plan_subnets(dr["cidr"], dr["availability_zones"], {}, path, ctx)
    return dr


def _rule_eks(eks: dict, path: str, ctx: Context) -> None:
    names = ("endpoint_private_access", "endpoint_public_access")
    if ctx.valid(*(child(path, n) for n in names)) and not any(eks[n] for n in names):
        ctx.error(
            child(path, "endpoint_public_access"),
            "false together with endpoint_private_access: the API server would be unreachable",
        )


def _rule_node_group(group: dict, path: str, ctx: Context) -> None:
    names = ("min_size", "desired_size", "max_size")
    if not ctx.valid(*(child(path, n) for n in names)):
        return
    low, desired, high = (group[n] for n in names)
    if low > high:
        ctx.error(child(path, "min_size"), f"{low} is greater than max_size ({high})")
    elif not low <= desired <= high:
        ctx.error(
            child(path, "desired_size"),
            f"{desired} is outside min_size..max_size ({low}..{high})",
        )


def _rule_subnet_tier(tier: dict, path: str, ctx: Context) -> None:
    if "prefix" in tier and tier.get("cidrs"):
        ctx.error(
            path,
            f"prefix ({tier['prefix']}) and cidrs ({describe(tier['cidrs'])}) are mutually"
            " exclusive, give one",
        )


def _default_nat(ctx: Context, _parent: dict) -> str:
    return "per_az" if ctx.root.get("environment") == "production" else "single"


def _default_desired(_ctx: Context, group: dict) -> Any:
    return group.get("min_size", 1)


def _str(**kwargs: Any) -> Spec:
    return Spec("str", **kwargs)


def _int(**kwargs: Any) -> Spec:
    return Spec("int", **kwargs)


def _bool(default: bool) -> Spec:
    return Spec("bool", default=default)


def _dict(fields: Mapping[str, Spec], **kwargs: Any) -> Spec:
    return Spec("dict", fields=fields, **kwargs)


def _availability_zones(example: str, **kwargs: Any) -> Spec:
    """1..6 distinct availability zone names (the primary's, or the DR network's)."""
    return Spec(
        "list",
        minimum=1,
        maximum=6,
        unique=True,
        items=_str(
            pattern=r"[a-z]{2}(-gov)?-[a-z]+-\d[a-z]",
            expect=f"an availability zone name (e.g. {example})",
        ),
        expect="a list of 1..6 availability zone names",
        **kwargs,
    )


def _str_map(**kwargs: Any) -> Spec:
    return Spec("dict", values=_str(), **kwargs)


def _cidr_list(default: list[str] | None = None, **kwargs: Any) -> Spec:
    return Spec(
        "list",
        items=_str(check=_check_cidr),
        unique=True,
        default=_MISSING if default is None else default,
        **kwargs,
    )


_SUBNET_TIER = _dict(
    {
        "prefix": _int(minimum=VPC_PREFIX_RANGE[0] + 1, maximum=MAX_SUBNET_PREFIX),
        "cidrs": _cidr_list(),
    },
    rules=(_rule_subnet_tier,),
)

_FLOW_LOGS = _dict(
    {
        "enabled": _bool(True),
        "traffic_type": _str(choices=("ACCEPT", "REJECT", "ALL"), default="ALL"),
        "retention_days": _int(choices=LOG_RETENTION_DAYS, default=30),
    },
    default={},
)

NETWORK = _dict(
    {
        "cidr": _str(required=True, check=_check_vpc_cidr, expect="an IPv4 CIDR /16../24"),
        "subnets": _dict({tier: _SUBNET_TIER for tier in SUBNET_TIERS}, default={}),
        "nat": _str(choices=("single", "per_az", "none"), default=_default_nat),
        "alb_ingress_cidrs": _cidr_list(default=["0.0.0.0/0"]),
        "flow_logs": _FLOW_LOGS,
        "s3_endpoint": _bool(True),
        # The DR region's network (a DR VPC for the cross-region DR replica): planned by
        # _rule_platform when dr_region is set and a database has dr_replica.enabled, else null.
        "dr": _dict(
            {
                "cidr": _str(
                    check=_check_vpc_cidr,
                    expect="an IPv4 CIDR /16../24",
                    nullable=True,
                    default=None,
                ),
                "availability_zones": _availability_zones(
                    "us-west-2a", nullable=True, default=None
                ),
                "nat": _str(choices=("single", "per_az", "none"), default="none"),
                "flow_logs": _FLOW_LOGS,
            },
            default={},
        ),
    },
    required=True,
)

TAINT = _dict(
    {
        "key": _str(
            required=True,
            pattern=r"([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?",
            expect="a Kubernetes taint key ([prefix/]name)",
        ),
        "value": _str(
            default="",
            pattern=r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?",
            expect="a Kubernetes label value (up to 63 characters)",
        ),
        "effect": _str(required=True, choices=("NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE")),
    }
)

NODE_GROUP = _dict(
    {
        "name": _str(
            required=True,
            pattern=r"[a-z][a-z0-9-]{0,30}",
            expect="a node group name (^[a-z][a-z0-9-]{0,30}$)",
        ),
        "instance_types": Spec(
            "list",
            required=True,
            minimum=1,
            unique=True,
            items=_str(
                pattern=r"[a-z][a-z0-9-]*\.[a-z0-9]+",
                expect="an EC2 instance type (e.g. m5.xlarge)",
            ),
        ),
        "capacity_type": _str(choices=("ON_DEMAND", "SPOT"), default="ON_DEMAND"),
        "min_size": _int(required=True, minimum=0),
        "desired_size": _int(minimum=0, default=_default_desired),
        "max_size": _int(required=True, minimum=1),
        "disk_size": _int(minimum=20, maximum=16384, default=50),
        "ami_type": _str(choices=EKS_AMI_TYPES, default="AL2023_x86_64_STANDARD"),
        "labels": _str_map(default={}),
        "taints": Spec("list", items=TAINT, default=[]),
        "max_unavailable": _int(minimum=1, maximum=100, default=1),
    },
    rules=(_rule_node_group,),
)

EKS = _dict(
    {
        "version": _str(
            pattern=r"1\.\d+", expect='a Kubernetes version string "1.N"', default="1.33"
        ),
        "endpoint_public_access": _bool(True),
        "endpoint_private_access": _bool(True),
        "public_access_cidrs": _cidr_list(default=["0.0.0.0/0"]),
        "log_types": Spec(
            "list", items=_str(choices=EKS_LOG_TYPES), unique=True, default=list(EKS_LOG_TYPES)
        ),
        "addons": Spec(
            "list",
            items=_str(pattern=r"[a-z0-9][a-z0-9-]*", expect="an EKS add-on name"),
            unique=True,
            default=list(EKS_DEFAULT_ADDONS),
        ),
        "node_groups": Spec("list", items=NODE_GROUP, unique_key="name", default=[]),
    },
    nullable=True,
    default=None,
    rules=(_rule_eks,),
)

# --- Storage (buckets, KMS keys, secrets) -------------------------------------------------------

# Lifecycle transitions, in the only order S3 allows an object to move down them.
S3_TRANSITION_CLASSES = (
    "STANDARD_IA",
    "INTELLIGENT_TIERING",
    "GLACIER_IR",
    "GLACIER",
    "DEEP_ARCHIVE",
)
# S3 rejects a transition to STANDARD_IA before 30 days, and any later transition less than 30
# days after a STANDARD_IA one (objects must stay 30 days in Standard-IA).
S3_STANDARD_IA_MIN_DAYS = 30
S3_BUCKET_NAME_MAX = 63
# Suffix of a bucket's cross-region replica (see the storage role).
S3_DR_SUFFIX = "-dr"
# The KMS key buckets and secrets use unless they name another; the storage role always creates it.
STORAGE_DEFAULT_KMS_KEY = "storage"


def _rule_lifecycle(rule: dict, path: str, ctx: Context) -> None:
    transitions_path = child(path, "transitions")
    if not ctx.valid(transitions_path):
        return
    transitions = rule.get("transitions") or []
    seen: dict[str, int] = {}
    for index, transition in enumerate(transitions):
        cls_path = child(item(transitions_path, index), "storage_class")
        cls = transition["storage_class"]
        if cls in seen:
            ctx.error(
                cls_path, f"{describe(cls)} is a duplicate of {item(transitions_path, seen[cls])}"
            )
            return
        seen[cls] = index
    ordered = sorted(transitions, key=lambda t: S3_TRANSITION_CLASSES.index(t["storage_class"]))
    previous: dict | None = None
    ia_days: int | None = None
    for transition in ordered:
        index = transitions.index(transition)
        days_path = child(item(transitions_path, index), "days")
        cls, days = transition["storage_class"], transition["days"]
        if cls == "STANDARD_IA":
            ia_days = days
            if days < S3_STANDARD_IA_MIN_DAYS:
                ctx.error(
                    days_path,
                    f"{days} is less than {S3_STANDARD_IA_MIN_DAYS} (S3's minimum for STANDARD_IA)",
                )
                return
        elif ia_days is not None and days < ia_days + S3_STANDARD_IA_MIN_DAYS:
            ctx.error(
                days_path,
                f"{days} ({cls}) must be at least {S3_STANDARD_IA_MIN_DAYS} days after the"
                f" STANDARD_IA transition ({ia_days})",
            )
            return
        if previous is not None and days <= previous["days"]:
            ctx.error(
                days_path,
                f"{days} ({cls}) is not after the {previous['storage_class']} transition"
                f" ({previous['days']}); days must ascend in the order "
                + ", ".join(S3_TRANSITION_CLASSES),
            )
            return
        previous = transition
    expiration_path = child(path, "expiration_days")
    expiration = rule.get("expiration_days")
    if (
        previous is not None
        and expiration is not None
        and ctx.valid(expiration_path)
        and expiration <= previous["days"]
    ):
        ctx.error(
            expiration_path,
            f"{expiration} is not after the last transition ({previous['storage_class']}"
            f" at {previous['days']} days)",
        )


def _rule_bucket(bucket: dict, path: str, ctx: Context) -> None:
    root = ctx.root
    name_path = child(path, "name")
    name = bucket.get("name")
    if ctx.valid(name_path) and isinstance(name, str):
        if name.endswith("-"):
            ctx.error(
                name_path, f"{describe(name)} ends with '-' (S3 names end with a letter or digit)"
            )
        elif ctx.valid(child(ROOT, "name"), child(ROOT, "environment")) and "name" in root:
            full = f"{root['name']}-{root.get('environment', '')}-{name}"
            longest = full + (S3_DR_SUFFIX if bucket.get("replicate_to_dr") else "")
            if len(longest) > S3_BUCKET_NAME_MAX:
                ctx.error(
                    name_path,
                    f"{describe(name)} makes the bucket name {describe(longest)}"
                    f" {len(longest)} characters long, S3 allows {S3_BUCKET_NAME_MAX}",
                )
            elif full.endswith(("-s3alias", "--ol-s3", "--x-s3", "--table-s3")):
                ctx.error(name_path, f"{describe(name)} ends with a suffix S3 reserves")
    replicate_path = child(path, "replicate_to_dr")
    if bucket.get("replicate_to_dr") is True and ctx.valid(replicate_path):
        if not root.get("dr_region"):
            ctx.error(replicate_path, "true needs platform.dr_region (the replica's region)")
        elif bucket.get("versioning") is False:
            ctx.error(
                replicate_path, "true needs versioning: true (S3 replicates only versioned buckets)"
            )
    if bucket.get("versioning") is False and isinstance(bucket.get("lifecycle"), list):
        for index, rule in enumerate(bucket["lifecycle"]):
            if isinstance(rule, dict) and rule.get("noncurrent_expiration_days") is not None:
                ctx.error(
                    child(item(child(path, "lifecycle"), index), "noncurrent_expiration_days"),
                    "needs versioning: true (an unversioned bucket has no noncurrent versions)",
                )
    _check_kms_key_ref(bucket, path, ctx)


def _check_bucket_names(buckets: list, path: str, ctx: Context) -> None:
    """A replicated bucket's DR copy (<name>-dr) must not be another configured bucket."""
    names = {bucket["name"]: index for index, bucket in enumerate(buckets)}
    for index, bucket in enumerate(buckets):
        copy = bucket["name"] + S3_DR_SUFFIX
        if bucket["replicate_to_dr"] and copy in names:
            ctx.error(
                child(item(path, names[copy]), "name"),
                f"{describe(copy)} is the DR copy of {item(path, index)} ({bucket['name']})",
            )


def _rule_secret(secret: dict, path: str, ctx: Context) -> None:
    given = [key for key in ("generate", "value_from") if secret.get(key) is not None]
    if len(given) != 1:
        ctx.error(
            path,
            "give exactly one of generate or value_from"
            + (" (both given)" if given else " (neither given)"),
        )
    replicate_path = child(path, "replicate_to_dr")
    if (
        secret.get("replicate_to_dr") is True
        and ctx.valid(replicate_path)
        and not ctx.root.get("dr_region")
    ):
        ctx.error(replicate_path, "true needs platform.dr_region (the replica's region)")
    _check_kms_key_ref(secret, path, ctx)


def _check_kms_key_ref(entry: dict, path: str, ctx: Context) -> None:
    """``kms_key`` names the storage key or one of platform.kms_keys (validated before)."""
    key_path = child(path, "kms_key")
    key = entry.get("kms_key")
    if not ctx.valid(key_path) or not isinstance(key, str) or key == STORAGE_DEFAULT_KMS_KEY:
        return
    keys = ctx.root.get("kms_keys")
    if not isinstance(keys, list) or not ctx.valid(child(ROOT, "kms_keys")):
        return
    names = [k.get("name") for k in keys if isinstance(k, dict)]
    if key not in names:
        known = ", ".join(
            [STORAGE_DEFAULT_KMS_KEY, *(n for n in names if n != STORAGE_DEFAULT_KMS_KEY)]
        )
        ctx.error(
            key_path, f"{describe(key)} is not a key of platform.kms_keys, expected one of: {known}"
        )


_KMS_KEY_REF = _str(
    pattern=r"[a-z0-9][a-z0-9-]{0,40}",
    expect="a KMS key name from platform.kms_keys (or storage)",
    default=STORAGE_DEFAULT_KMS_KEY,
)

TRANSITION = _dict(
    {
        "days": _int(required=True, minimum=0),
        "storage_class": _str(required=True, choices=S3_TRANSITION_CLASSES),
    }
)

LIFECYCLE_RULE = _dict(
    {
        "id": _str(
            required=True,
            pattern=r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}",
            expect="a rule id (^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$)",
        ),
        "prefix": _str(default="", pattern=r"[^\x00-\x1f]{0,1024}", expect="an object key prefix"),
        "transitions": Spec("list", items=TRANSITION, default=[]),
        "expiration_days": _int(minimum=1, nullable=True, default=None),
        "noncurrent_expiration_days": _int(minimum=1, nullable=True, default=None),
        "abort_incomplete_multipart_days": _int(minimum=1, default=7),
    },
    rules=(_rule_lifecycle,),
)

KMS_KEY = _dict(
    {
        "name": _str(
            required=True,
            pattern=r"[a-z0-9][a-z0-9-]{0,40}",
            expect="a key name (^[a-z0-9][a-z0-9-]{0,40}$)",
        ),
        "description": _str(default=""),
        "rotation": _bool(True),
    }
)

BUCKET = _dict(
    {
        "name": _str(
            required=True,
            pattern=r"[a-z0-9][a-z0-9-]{1,40}",
            expect="a bucket name (^[a-z0-9][a-z0-9-]{1,40}$)",
        ),
        "versioning": _bool(True),
        "kms_key": _KMS_KEY_REF,
        "lifecycle": Spec("list", items=LIFECYCLE_RULE, unique_key="id", default=[]),
        "replicate_to_dr": _bool(False),
    },
    rules=(_rule_bucket,),
)

SECRET = _dict(
    {
        "name": _str(
            required=True,
            pattern=r"[a-z0-9][a-z0-9/_-]{0,62}",
            expect="a secret name (^[a-z0-9][a-z0-9/_-]{0,62}$)",
        ),
        "description": _str(default=""),
        "kms_key": _KMS_KEY_REF,
        "generate": _dict(
            {
                "length": _int(minimum=8, maximum=4096, default=32),
                "exclude_punctuation": _bool(False),
            },
            nullable=True,
            default=None,
        ),
        "value_from": _str(
            pattern=r"[A-Za-z_][A-Za-z0-9_]*",
            expect="an Ansible variable name",
            nullable=True,
            default=None,
        ),
        "replicate_to_dr": _bool(False),
    },
    rules=(_rule_secret,),
)

# --- caches (the elasticache layer) ------------------------------------------------------------

CACHE_ENGINES = ("redis", "valkey")
CACHE_DEFAULT_ENGINE_VERSION = {"redis": "7.1", "valkey": "8.0"}
# ElastiCache replication group ids: at most 40 characters; Plinth names them <name>-<env>-<cache>.
CACHE_GROUP_ID_MAX = 40
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_HHMM = r"([01]\d|2[0-3]):[0-5]\d"


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _window_minutes(start: int, end: int, period: int) -> int:
    """Length of a window that may wrap around midnight (or the end of the week)."""
    return (end - start) % period


def _check_snapshot_window(value: str, path: str, ctx: Context) -> None:
    start, end = (_minutes(part) for part in value.split("-"))
    if _window_minutes(start, end, 24 * 60) < 60:
        ctx.error(path, f"{describe(value)} is shorter than 60 minutes (ElastiCache's minimum)")


def _check_maintenance_window(value: str, path: str, ctx: Context) -> None:
    def weekly(part: str) -> int:
        day, hhmm = part[:3], part[4:]
        return _WEEKDAYS.index(day) * 24 * 60 + _minutes(hhmm)

    start, end = (weekly(part) for part in value.split("-"))
    if _window_minutes(start, end, 7 * 24 * 60) < 60:
        ctx.error(path, f"{describe(value)} is shorter than 60 minutes (ElastiCache's minimum)")


def _check_cache_parameters(value: dict, path: str, ctx: Context) -> None:
    if "cluster-enabled" in value:
        ctx.error(
            child(path, "cluster-enabled"),
            "is set by Plinth from shards (cluster mode enabled when shards is given)",
        )


def _default_cache_engine_version(_ctx: Context, cache: dict) -> str:
    engine = cache.get("engine")
    return CACHE_DEFAULT_ENGINE_VERSION.get(engine, CACHE_DEFAULT_ENGINE_VERSION["redis"])


def _sharded(cache: dict) -> bool:
    return cache.get("shards") is not None


def _default_cache_replicas(_ctx: Context, cache: dict) -> int | None:
    return None if _sharded(cache) else 1


def _default_replicas_per_shard(_ctx: Context, cache: dict) -> int | None:
    return 1 if _sharded(cache) else None


def _replica_count(cache: dict) -> Any:
    return cache.get("replicas_per_shard") if _sharded(cache) else cache.get("replicas")


def _default_automatic_failover(_ctx: Context, cache: dict) -> bool:
    replicas = _replica_count(cache)
    return _sharded(cache) or (isinstance(replicas, int) and replicas >= 1)


def _default_multi_az(_ctx: Context, cache: dict) -> bool:
    replicas = _replica_count(cache)
    return cache.get("automatic_failover") is True and isinstance(replicas, int) and replicas >= 1


def _rule_cache(cache: dict, path: str, ctx: Context) -> None:
    def at(name: str) -> str:
        return child(path, name)

    both_counts = _sharded(cache) and cache.get("replicas") is not None
    if ctx.valid(at("shards"), at("replicas")) and both_counts:
        ctx.error(
            at("replicas"),
            f"{cache['replicas']} and shards ({cache['shards']}) are mutually exclusive: give"
            " replicas (one primary and its replicas) or shards with replicas_per_shard",
        )
        return
    if (
        ctx.valid(at("shards"), at("replicas_per_shard"))
        and not _sharded(cache)
        and cache.get("replicas_per_shard") is not None
    ):
        ctx.error(at("replicas_per_shard"), f"{cache['replicas_per_shard']} requires shards")
        return
    if (
        ctx.valid(at("auth_token"), at("transit_encryption"))
        and cache.get("auth_token") is True
        and cache.get("transit_encryption") is False
    ):
        ctx.error(at("auth_token"), "true requires transit_encryption (AUTH is only sent over TLS)")
    counted = ("shards", "replicas", "replicas_per_shard", "automatic_failover")
    if not ctx.valid(*(at(name) for name in counted)):
        return
    replicas = _replica_count(cache)
    failover = cache.get("automatic_failover")
    if _sharded(cache) and failover is False:
        ctx.error(
            at("automatic_failover"),
            "false is not possible with shards (cluster mode enabled always fails over)",
        )
    elif not _sharded(cache) and failover is True and replicas == 0:
        ctx.error(at("automatic_failover"), "true needs at least one replica (replicas is 0)")
    elif ctx.valid(at("multi_az")) and cache.get("multi_az") is True:
        if replicas == 0:
            where = " in each shard" if _sharded(cache) else ""
            ctx.error(at("multi_az"), f"true needs at least one replica{where}")
        elif failover is not True:
            ctx.error(at("multi_az"), "true requires automatic_failover")


def _rule_caches(caches: dict, path: str, ctx: Context) -> None:
    name, environment = ctx.root.get("name"), ctx.root.get("environment")
    prefix_known = ctx.valid(child(ROOT, "name"), child(ROOT, "environment"))
    for key in caches:
        key_path = child(path, key)
        if not isinstance(key, str):
            continue
        if not re.fullmatch(r"[a-z](-?[a-z0-9])*", key):
            ctx.error(
                key_path,
                f"{describe(key)} is not a cache name (lowercase letters, digits and single"
                " hyphens, starting with a letter, not ending with a hyphen)",
            )
        elif prefix_known and isinstance(name, str) and isinstance(environment, str):
            group_id = f"{name}-{environment}-{key}"
            if len(group_id) > CACHE_GROUP_ID_MAX:
                ctx.error(
                    key_path,
                    f"{describe(key)} makes the replication group id {group_id!r}"
                    f" {len(group_id)} characters long, expected at most {CACHE_GROUP_ID_MAX}",
                )


CACHE = _dict(
    {
        "engine": _str(choices=CACHE_ENGINES, default="redis"),
        "engine_version": _str(
            pattern=r"\d+\.(\d+|x)(\.\d+)?",
            expect='an engine version string (e.g. "7.1")',
            default=_default_cache_engine_version,
        ),
        "node_type": _str(
            required=True,
            pattern=r"cache\.[a-z0-9]+\.[a-z0-9]+",
            expect="an ElastiCache node type (e.g. cache.r6g.xlarge)",
        ),
        # Defaults below read the fields above them (filled in this order).
        "shards": _int(minimum=1, maximum=500, nullable=True, default=None),
        "replicas_per_shard": _int(
            minimum=0, maximum=5, nullable=True, default=_default_replicas_per_shard
        ),
        "replicas": _int(minimum=0, maximum=5, nullable=True, default=_default_cache_replicas),
        "transit_encryption": _bool(True),
        "auth_token": _bool(True),
        "at_rest_encryption": _bool(True),
        "automatic_failover": Spec("bool", default=_default_automatic_failover),
        "multi_az": Spec("bool", default=_default_multi_az),
        "snapshot_retention_days": _int(minimum=0, maximum=35, default=7),
        "snapshot_window": _str(
            pattern=f"{_HHMM}-{_HHMM}",
            expect="a daily UTC window hh:mm-hh:mm (e.g. 03:00-05:00)",
            check=_check_snapshot_window,
            nullable=True,
            default=None,
        ),
        "maintenance_window": _str(
            pattern=f"(sun|mon|tue|wed|thu|fri|sat):{_HHMM}-(sun|mon|tue|wed|thu|fri|sat):{_HHMM}",
            expect="a weekly UTC window ddd:hh:mm-ddd:hh:mm (e.g. sun:05:00-sun:07:00)",
            check=_check_maintenance_window,
            nullable=True,
            default=None,
        ),
        "parameters": Spec(
            "dict",
            values=_str(),
            default={},
            check=_check_cache_parameters,
        ),
        "logs": _dict(
            {
                "slow": _bool(True),
                "engine": _bool(True),
                "retention_days": _int(choices=LOG_RETENTION_DAYS, default=30),
            },
            default={},
        ),
    },
    rules=(_rule_cache,),
)


# --- databases (the rds layer) ------------------------------------------------------------------

DATABASE_ENGINES = ("postgres",)
DATABASE_STORAGE_TYPES = ("gp3", "io1", "io2")
DATABASE_LOG_EXPORTS = ("postgresql", "upgrade")
# RDS for PostgreSQL storage limits (RDS User Guide, "Amazon RDS DB instance storage"): 20 GiB to
# 64 TiB; gp3 below 400 GiB runs at its 3000 IOPS / 125 MiB/s baseline and accepts neither
# setting, from 400 GiB the minimums are 12000 IOPS / 500 MiB/s.
DATABASE_STORAGE_RANGE = (20, 65536)
GP3_PROVISIONED_FROM = 400
GP3_IOPS_RANGE = (12000, 64000)
GP3_THROUGHPUT_RANGE = (500, 4000)
PIOPS_RANGE = (1000, 256000)
# Maximum IOPS per GiB of provisioned-IOPS storage.
PIOPS_RATIO = {"io1": 50, "io2": 1000}
# Instance identifiers are <name>-<environment>-<database>[-dr|-replica-N], at most 63 characters.
DATABASE_NAME_PATTERN = r"[a-z][a-z0-9]{0,14}"
_DB_CLASS = r"db\.[a-z0-9]+\.[a-z0-9]+"


def _check_db_backup_window(value: str, path: str, ctx: Context) -> None:
    start, end = (_minutes(part) for part in value.split("-"))
    if _window_minutes(start, end, 24 * 60) < 30:
        ctx.error(path, f"{describe(value)} is shorter than 30 minutes (RDS's minimum)")


def _weekly_window(value: str) -> tuple[int, int]:
    def weekly(part: str) -> int:
        return _WEEKDAYS.index(part[:3]) * 24 * 60 + _minutes(part[4:])

    start, end = (weekly(part) for part in value.split("-"))
    return start, end


def _check_db_maintenance_window(value: str, path: str, ctx: Context) -> None:
    start, end = _weekly_window(value)
    if _window_minutes(start, end, 7 * 24 * 60) < 30:
        ctx.error(path, f"{describe(value)} is shorter than 30 minutes (RDS's minimum)")


def _check_db_parameters(value: dict, path: str, ctx: Context) -> None:
    for key, setting in value.items():
        key_path = child(path, key)
        if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_.]*", key):
            ctx.error(key_path, f"{describe(key)} is not a parameter name")
        elif isinstance(setting, bool) or not isinstance(setting, (str, int)):
            ctx.error(
                key_path,
                f"{describe(setting)} is {_type_name(setting)}, expected a string or an integer",
            )


def _check_database_names(value: dict, path: str, ctx: Context) -> None:
    for key in value:
        if isinstance(key, str) and not re.fullmatch(DATABASE_NAME_PATTERN, key):
            ctx.error(
                child(path, key),
                f"{describe(key)} is not a database name (^{DATABASE_NAME_PATTERN}$)",
            )


def _windows_overlap(backup: str, maintenance: str) -> bool:
    """Whether the daily backup window meets the weekly maintenance window (minutes of the week)."""
    week = 7 * 24 * 60
    m_start, m_end = _weekly_window(maintenance)
    m_len = _window_minutes(m_start, m_end, week)
    b_start, b_end = (_minutes(part) for part in backup.split("-"))
    b_len = _window_minutes(b_start, b_end, 24 * 60)
    for day in range(7):
        start = day * 24 * 60 + b_start
        # Two intervals on a circle overlap when either start lies inside the other interval.
        if (start - m_start) % week < m_len or (m_start - start) % week < b_len:
            return True
    return False


def _storage_rules(db: dict, path: str, ctx: Context) -> None:
    names = ("storage_type", "allocated_storage", "iops", "storage_throughput")
    if not ctx.valid(*(child(path, n) for n in names)):
        return
    kind, size, iops, throughput = (db.get(n) for n in names)
    iops_path, tp_path = child(path, "iops"), child(path, "storage_throughput")
    if kind == "gp3":
        if (iops is not None or throughput is not None) and size < GP3_PROVISIONED_FROM:
            bad = iops_path if iops is not None else tp_path
            ctx.error(
                bad,
                f"gp3 below {GP3_PROVISIONED_FROM} GiB (allocated_storage {size}) runs at its"
                " baseline 3000 IOPS / 125 MiB/s and accepts no iops or storage_throughput",
            )
            return
        for value, limits, field_path in (
            (iops, GP3_IOPS_RANGE, iops_path),
            (throughput, GP3_THROUGHPUT_RANGE, tp_path),
        ):
            if value is not None and not limits[0] <= value <= limits[1]:
                ctx.error(
                    field_path,
                    f"{value} is out of range for gp3 from {GP3_PROVISIONED_FROM} GiB,"
                    f" expected {limits[0]}..{limits[1]}",
                )
        return
    if throughput is not None:
        ctx.error(tp_path, f"storage_throughput is only configurable for gp3, not {kind}")
    if iops is None:
        ctx.error(iops_path, f"is required for storage_type {kind}")
    elif not PIOPS_RANGE[0] <= iops <= min(PIOPS_RANGE[1], PIOPS_RATIO[kind] * size):
        ctx.error(
            iops_path,
            f"{iops} is out of range for {kind} with {size} GiB, expected"
            f" {PIOPS_RANGE[0]}..{min(PIOPS_RANGE[1], PIOPS_RATIO[kind] * size)}"
            f" (at most {PIOPS_RATIO[kind]} IOPS per GiB)",
        )


def _rule_database(db: dict, path: str, ctx: Context) -> None:
    _storage_rules(db, path, ctx)
    size_path, max_path = child(path, "allocated_storage"), child(path, "max_allocated_storage")
    ceiling = db.get("max_allocated_storage")
    valid_sizes = ctx.valid(size_path, max_path)
    if ceiling is not None and valid_sizes and ceiling <= db["allocated_storage"]:
        ctx.error(
            max_path,
            f"{ceiling} is not above allocated_storage ({db['allocated_storage']});"
            " leave it out (null) to turn storage autoscaling off",
        )
    backup_path, maint_path = child(path, "backup_window"), child(path, "maintenance_window")
    if ctx.valid(backup_path, maint_path) and _windows_overlap(
        db["backup_window"], db["maintenance_window"]
    ):
        ctx.error(
            maint_path,
            f"{describe(db['maintenance_window'])} overlaps backup_window"
            f" {describe(db['backup_window'])}",
        )
    dr_path = child(path, "dr_replica")
    dr = db.get("dr_replica")
    if not isinstance(dr, dict) or not ctx.valid(dr_path):
        return
    if dr.get("instance_class") is None:
        dr["instance_class"] = db.get("replica_instance_class")
    retention_path = child(path, "backup_retention_days")
    replicas = db.get("read_replicas") if ctx.valid(child(path, "read_replicas")) else 0
    if (
        ctx.valid(retention_path)
        and db.get("backup_retention_days") == 0
        and (replicas or dr.get("enabled"))
    ):
        ctx.error(
            retention_path,
            "0 turns automated backups off, which read replicas and the DR replica need"
            " (expected 1..35)",
        )
    if dr.get("enabled") and ctx.valid(child(ROOT, "dr_region")) and not ctx.root.get("dr_region"):
        ctx.error(child(dr_path, "enabled"), "needs platform.dr_region (the DR replica's region)")


def _default_when_production(ctx: Context, _parent: dict) -> bool:
    return ctx.root.get("environment") == "production"


def _default_replica_class(_ctx: Context, db: dict) -> Any:
    return db.get("instance_class", "db.r6g.large")


DATABASE = _dict(
    {
        "engine": _str(choices=DATABASE_ENGINES, default="postgres"),
        "engine_version": _str(
            pattern=r"\d+(\.\d+)?",
            expect='a PostgreSQL version string "N" or "N.M"',
            default="16.4",
        ),
        "instance_class": _str(
            pattern=_DB_CLASS, expect="an RDS instance class (db.*)", default="db.r6g.large"
        ),
        "allocated_storage": _int(
            minimum=DATABASE_STORAGE_RANGE[0], maximum=DATABASE_STORAGE_RANGE[1], default=100
        ),
        "max_allocated_storage": _int(
            minimum=DATABASE_STORAGE_RANGE[0],
            maximum=DATABASE_STORAGE_RANGE[1],
            nullable=True,
            default=None,
        ),
        "storage_type": _str(choices=DATABASE_STORAGE_TYPES, default="gp3"),
        "iops": _int(minimum=1, nullable=True, default=None),
        "storage_throughput": _int(minimum=1, nullable=True, default=None),
        "multi_az": Spec("bool", default=_default_when_production),
        "backup_retention_days": _int(minimum=0, maximum=35, default=7),
        "backup_window": _str(
            pattern=f"{_HHMM}-{_HHMM}",
            expect='a UTC window "hh:mm-hh:mm"',
            check=_check_db_backup_window,
            default="03:00-04:00",
        ),
        "maintenance_window": _str(
            pattern=f"({'|'.join(_WEEKDAYS)}):{_HHMM}-({'|'.join(_WEEKDAYS)}):{_HHMM}",
            expect='a UTC window "ddd:hh:mm-ddd:hh:mm" with lowercase days (sun..sat)',
            check=_check_db_maintenance_window,
            default="sun:04:30-sun:05:30",
        ),
        "performance_insights": _bool(True),
        "log_exports": Spec(
            "list",
            items=_str(choices=DATABASE_LOG_EXPORTS),
            unique=True,
            default=list(DATABASE_LOG_EXPORTS),
        ),
        "deletion_protection": Spec("bool", default=_default_when_production),
        "database_name": _str(
            pattern=r"[A-Za-z][A-Za-z0-9_]{0,62}",
            expect="a PostgreSQL database name (^[A-Za-z][A-Za-z0-9_]{0,62}$)",
            default="app",
        ),
        "master_username": _str(
            pattern=r"(?!rdsadmin$)[A-Za-z][A-Za-z0-9_]{0,62}",
            expect="a user name (^[A-Za-z][A-Za-z0-9_]{0,62}$, not rdsadmin)",
            default="plinth_admin",
        ),
        "parameters": Spec("dict", default={}, check=_check_db_parameters),
        "read_replicas": _int(minimum=0, maximum=15, default=0),
        "replica_instance_class": _str(
            pattern=_DB_CLASS, expect="an RDS instance class (db.*)", default=_default_replica_class
        ),
        "dr_replica": _dict(
            {
                "enabled": _bool(False),
                "instance_class": _str(
                    pattern=_DB_CLASS,
                    expect="an RDS instance class (db.*)",
                    nullable=True,
                    default=None,
                ),
            },
            default={},
        ),
    },
    rules=(_rule_database,),
)


# --- Monitoring (docs/config.md, "monitoring") --------------------------------------------------

MONITORING_SEVERITIES = ("critical", "warning", "info")
BUDGET_THRESHOLD_TYPES = ("FORECASTED", "ACTUAL")
BUDGET_TIME_UNITS = ("MONTHLY", "QUARTERLY", "ANNUALLY")
# The reference architectures' budget alerts: 50 % and 80 % of the forecast, 90 % actual.
DEFAULT_BUDGET_THRESHOLDS = (
    {"percent": 50, "type": "FORECASTED", "severity": "info"},
    {"percent": 80, "type": "FORECASTED", "severity": "warning"},
    {"percent": 90, "type": "ACTUAL", "severity": "critical"},
)
# name -> (minimum, maximum, default); floats, so checked by _check_numbers (the engine has no
# float kind). error_rate_percent defaults to the availability's error budget.
SLA_NUMBERS: dict[str, tuple[float, float, float | None]] = {
    "availability": (50.0, 99.999, 99.9),
    "p95_latency_ms": (1, 600000, 100),
    "error_rate_percent": (0.001, 100.0, None),
}


def _check_numbers(limits: Mapping[str, tuple[float, float, float | None]]) -> Check:
    """A check for a mapping of numbers (int or float) with ranges, filling in defaults."""

    def check(value: dict, path: str, ctx: Context) -> None:
        for key in list(value):
            if key not in limits:
                known = ", ".join(limits)
                ctx.error(
                    child(path, key), f"unknown key {describe(key)}, expected one of: {known}"
                )
        for key, (low, high, default) in limits.items():
            key_path = child(path, key)
            number = value.get(key, default)
            if number is None:
                continue
            if isinstance(number, bool) or not isinstance(number, (int, float)):
                ctx.error(
                    key_path, f"{describe(number)} is {_type_name(number)}, expected a number"
                )
            elif not low <= number <= high:
                ctx.error(key_path, f"{describe(number)} is out of range, expected {low}..{high}")
            value[key] = number

    return check


def _default_sla(_ctx: Context, _parent: dict) -> dict:
    sla = {key: default for key, (_low, _high, default) in SLA_NUMBERS.items()}
    sla["error_rate_percent"] = round(100.0 - sla["availability"], 6)
    return sla


def _rule_sla(sla: dict, path: str, ctx: Context) -> None:
    if ctx.valid(path) and sla.get("error_rate_percent") is None:
        sla["error_rate_percent"] = round(100.0 - sla["availability"], 6)


def _default_in_cluster(ctx: Context, _parent: dict) -> bool:
    return bool(ctx.root.get("eks"))


def _rule_monitoring(monitoring: dict, path: str, ctx: Context) -> None:
    in_cluster_path = child(path, "in_cluster")
    if ctx.valid(in_cluster_path) and monitoring.get("in_cluster") and not ctx.root.get("eks"):
        ctx.error(in_cluster_path, "true needs platform.eks (the cluster to run Prometheus in)")


def _rule_budget(budget: dict, path: str, ctx: Context) -> None:
    thresholds_path = child(path, "thresholds")
    if not ctx.valid(thresholds_path):
        return
    seen: dict[tuple[int, str], int] = {}
    for index, threshold in enumerate(budget.get("thresholds", [])):
        key = (threshold["percent"], threshold["type"])
        first = seen.setdefault(key, index)
        if first != index:
            ctx.error(
                item(thresholds_path, index),
                f"{key[0]} % {key[1]} is a duplicate of {item(thresholds_path, first)}",
            )


_TOPIC = _dict(
    {
        "email": Spec(
            "list",
            items=_str(pattern=r"[^@\s]+@[^@\s]+\.[^@\s]+", expect="an email address"),
            unique=True,
            default=[],
        ),
        # Webhook URLs commonly embed an integration key (PagerDuty, Opsgenie, Slack).
        "https": Spec(
            "list",
            items=_str(pattern=r"https://[^\s/]+(/\S*)?", expect="an https:// URL"),
            unique=True,
            default=[],
            sensitive=True,
        ),
    },
    default={},
)

_BUDGET_THRESHOLD = _dict(
    {
        "percent": _int(required=True, minimum=1, maximum=1000),
        "type": _str(required=True, choices=BUDGET_THRESHOLD_TYPES),
        "severity": _str(choices=MONITORING_SEVERITIES, default="warning"),
    }
)

_BUDGET = _dict(
    {
        "name": _str(
            pattern=r"[a-z0-9][a-z0-9-]{0,40}",
            expect="a lowercase name (^[a-z0-9][a-z0-9-]{0,40}$)",
            default="monthly",
        ),
        "limit_usd": _int(required=True, minimum=1),
        "time_unit": _str(choices=BUDGET_TIME_UNITS, default="MONTHLY"),
        "thresholds": Spec(
            "list",
            items=_BUDGET_THRESHOLD,
            minimum=1,
            maximum=5,  # AWS Budgets: at most 5 notifications per budget
            default=list(DEFAULT_BUDGET_THRESHOLDS),
        ),
    },
    rules=(_rule_budget,),
)

_ALARMS = _dict(
    {
        "period_seconds": _int(choices=(60, 300, 900, 3600), default=300),
        "evaluation_periods": _int(minimum=1, maximum=288, default=3),
        "rds_cpu_percent": _int(minimum=1, maximum=100, default=80),
        "rds_free_storage_percent": _int(minimum=1, maximum=99, default=10),
        "rds_connections_percent": _int(minimum=1, maximum=100, default=80),
        "cache_cpu_percent": _int(minimum=1, maximum=100, default=75),
        "cache_memory_percent": _int(minimum=1, maximum=100, default=80),
        "cache_evictions": _int(minimum=0, default=1000),
        "cache_replication_lag_seconds": _int(minimum=1, default=30),
        "node_cpu_reserved_percent": _int(minimum=1, maximum=100, default=80),
        "node_memory_reserved_percent": _int(minimum=1, maximum=100, default=80),
    },
    default={},
)

MONITORING = _dict(
    {
        "topics": _dict({severity: _TOPIC for severity in MONITORING_SEVERITIES}, default={}),
        "log_retention_days": _int(choices=LOG_RETENTION_DAYS, default=30),
        "budgets": Spec("list", items=_BUDGET, unique_key="name", default=[]),
        "sla": Spec(
            "dict", default=_default_sla, check=_check_numbers(SLA_NUMBERS), rules=(_rule_sla,)
        ),
        "alarms": _ALARMS,
        "dashboard": _bool(True),
        "in_cluster": Spec("bool", default=_default_in_cluster),
    },
    nullable=True,
    default=None,
    rules=(_rule_monitoring,),
)


# --- apps (the apps layer) ----------------------------------------------------------------------

# Object names are <app>, <app>-config, <app>-env, <app>-preview, <app>-blue/-green (contract 3):
# the app name leaves room for the longest suffix within a DNS-1035 label (Services: 63).
APP_NAME_MAX = 40
_DNS_LABEL = r"[a-z]([-a-z0-9]*[a-z0-9])?"
_DNS_1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
# Namespaces the control plane owns; an app there would share it with system components.
RESERVED_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
# An OCI image reference (distribution/reference grammar) pinned by tag or digest: an untagged
# image means whatever `latest` is when a node pulls it, so reruns would not be reproducible.
_IMAGE_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE_HOST_PART = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
# A first component is a registry only with a dot, a port or as localhost (else it is a path).
_IMAGE_DOMAIN = (
    rf"(?:(?:(?:localhost|{_IMAGE_HOST_PART}(?:\.{_IMAGE_HOST_PART})+)(?::\d+)?"
    rf"|{_IMAGE_HOST_PART}:\d+)/)?"
)
IMAGE_PATTERN = (
    _IMAGE_DOMAIN
    + _IMAGE_COMPONENT
    + f"(?:/{_IMAGE_COMPONENT})*"
    + r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"
    + r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?"
)
_CPU = r"\d+m|\d+(\.\d{1,3})?"
_MEMORY = r"\d+(Ki|Mi|Gi|Ti|k|M|G|T)?"
_MEMORY_FACTORS = {
    "": 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}
# Keys of the Secret <app>-env that Plinth fills from the data layer.
APP_DATA_KEYS = ("DATABASE_URL", "REDIS_URL")
_ENV_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_PERCENT = r"(100|[1-9]?\d)%"


def cpu_millis(value: str) -> int:
    """A CPU quantity (``250m``, ``1``, ``0.5``) in millicores."""
    return int(value[:-1]) if value.endswith("m") else round(float(value) * 1000)


def memory_bytes(value: str) -> int:
    """A memory quantity (``512Mi``, ``1Gi``, ``1G``, ``1048576``) in bytes."""
    digits = len(value) - len(value.lstrip("0123456789"))
    return int(value[:digits]) * _MEMORY_FACTORS[value[digits:]]


def secret_env_name(secret: str) -> str:
    """The key of a platform.secrets entry in the Secret <app>-env (api/signing-key:
    API_SIGNING_KEY)."""
    return re.sub(r"[^A-Za-z0-9]+", "_", secret).strip("_").upper()


def _check_env_names(value: dict, path: str, ctx: Context) -> None:
    for key in value:
        if not re.fullmatch(_ENV_NAME, key):
            ctx.error(child(path, key), f"{describe(key)} is not an environment variable name")
        elif key in APP_DATA_KEYS:
            ctx.error(child(path, key), f"{describe(key)} is set by Plinth from the data layer")


def _check_slo(value: dict, path: str, ctx: Context) -> None:
    for key, setting in value.items():
        key_path = child(path, key)
        if key == "availability":
            if isinstance(setting, bool) or not isinstance(setting, (int, float)):
                ctx.error(
                    key_path, f"{describe(setting)} is {_type_name(setting)}, expected a number"
                )
            elif not 0 < setting < 100:
                ctx.error(
                    key_path,
                    f"{describe(setting)} is out of range, expected a percentage 0 < x < 100",
                )
        elif key == "p95_latency_ms":
            if isinstance(setting, bool) or not isinstance(setting, int) or setting < 1:
                ctx.error(key_path, f"{describe(setting)} is not a positive integer")
        else:
            ctx.error(
                key_path,
                f"unknown key {describe(key)}, expected one of: availability, p95_latency_ms",
            )


def _rule_app_resources(resources: dict, path: str, ctx: Context) -> None:
    requests, limits = resources.get("requests"), resources.get("limits")
    if not (isinstance(requests, dict) and isinstance(limits, dict)):
        return
    for name, parse in (("cpu", cpu_millis), ("memory", memory_bytes)):
        request_path = child(child(path, "requests"), name)
        limit_path = child(child(path, "limits"), name)
        if name not in requests or name not in limits or not ctx.valid(request_path, limit_path):
            continue
        if parse(requests[name]) > parse(limits[name]):
            ctx.error(
                request_path,
                f"{describe(requests[name])} is above the limit {describe(limits[name])}",
            )


def _rule_autoscaling(scaling: dict, path: str, ctx: Context) -> None:
    names = ("min_replicas", "max_replicas")
    low, high = scaling.get("min_replicas"), scaling.get("max_replicas")
    if ctx.valid(*(child(path, n) for n in names)) and low is not None and low > high:
        ctx.error(child(path, "min_replicas"), f"{low} is greater than max_replicas ({high})")


def _check_disruption(value: dict, path: str, ctx: Context) -> None:
    """A PodDisruptionBudget: one of min_available / max_unavailable, a count or a percentage."""
    known = ("min_available", "max_unavailable")
    for key, budget in value.items():
        key_path = child(path, key)
        if key not in known:
            ctx.error(key_path, f"unknown key {describe(key)}, expected one of: {', '.join(known)}")
        elif isinstance(budget, bool) or not (
            (isinstance(budget, int) and budget >= 0)
            or (isinstance(budget, str) and re.fullmatch(_PERCENT, budget))
        ):
            ctx.error(
                key_path, f'{describe(budget)} is not a pod count (>= 0) or a percentage ("50%")'
            )
    given = [key for key in known if value.get(key) is not None]
    if len(given) != 1:
        ctx.error(
            path,
            "give exactly one of min_available or max_unavailable"
            + (" (both given)" if given else " (neither given)"),
        )


def _rule_flow(flow: dict, path: str, ctx: Context) -> None:
    if flow.get("namespace") is None and flow.get("app") is None:
        ctx.error(path, "give namespace, app or both (the pods allowed in)")


def _check_image(value: str, path: str, ctx: Context) -> None:
    if not re.search(r"(:[A-Za-z0-9_][A-Za-z0-9_.-]*|@[^@/]+)$", value.rsplit("/", 1)[-1]):
        ctx.error(path, f"{describe(value)} has no tag or digest (pin one, e.g. :1.4.2)")


def _rule_app(app: dict, path: str, ctx: Context) -> None:
    def at(name: str) -> str:
        return child(path, name)

    root = ctx.root
    if "node_group" in app and ctx.valid(at("node_group"), child(ROOT, "eks")):
        eks = root.get("eks")
        groups = [
            g.get("name") for g in (eks or {}).get("node_groups") or [] if isinstance(g, dict)
        ]
        if app["node_group"] not in groups:
            known = ", ".join(str(g) for g in groups) or "none (platform.eks has no node_groups)"
            ctx.error(
                at("node_group"),
                f"{describe(app['node_group'])} is not a node group of platform.eks.node_groups,"
                f" expected one of: {known}",
            )
    for key, section in (("database", "databases"), ("cache", "caches")):
        value = app.get(key)
        available = root.get(section)
        if value is None or not ctx.valid(at(key), child(ROOT, section)):
            continue
        if not isinstance(available, dict) or value not in available:
            known = ", ".join(available or {}) or f"none (platform.{section} is empty)"
            ctx.error(
                at(key),
                f"{describe(value)} is not a key of platform.{section}, expected one of: {known}",
            )
    secrets = app.get("secrets")
    known_secrets = [s.get("name") for s in root.get("secrets") or [] if isinstance(s, dict)]
    if isinstance(secrets, list) and ctx.valid(at("secrets"), child(ROOT, "secrets")):
        env = app.get("env") if isinstance(app.get("env"), dict) else {}
        for index, secret in enumerate(secrets):
            secret_path = item(at("secrets"), index)
            if secret not in known_secrets:
                known = ", ".join(known_secrets) or "none (platform.secrets is empty)"
                ctx.error(
                    secret_path,
                    f"{describe(secret)} is not a name of platform.secrets,"
                    f" expected one of: {known}",
                )
            elif secret_env_name(secret) in env or secret_env_name(secret) in APP_DATA_KEYS:
                ctx.error(
                    secret_path,
                    f"{describe(secret)} becomes the key {secret_env_name(secret)}, which env or"
                    " the data layer already sets",
                )
    scaling = app.get("autoscaling")
    if (
        isinstance(scaling, dict)
        and ctx.valid(at("autoscaling"), at("replicas"))
        and scaling.get("min_replicas") is None
    ):
        # The HPA starts from the replicas the app asks for.
        scaling["min_replicas"] = max(app["replicas"], 1)
        if scaling["min_replicas"] > scaling["max_replicas"]:
            ctx.error(
                child(at("autoscaling"), "max_replicas"),
                f"{scaling['max_replicas']} is below replicas ({app['replicas']}),"
                " which min_replicas defaults to",
            )
    disruption = app.get("disruption")
    if (
        isinstance(disruption, dict)
        and isinstance(disruption.get("min_available"), int)
        and ctx.valid(at("disruption"), at("replicas"), at("autoscaling"))
    ):
        floor = scaling["min_replicas"] if isinstance(scaling, dict) else app["replicas"]
        if floor and disruption["min_available"] >= floor:
            ctx.error(
                child(at("disruption"), "min_available"),
                f"{disruption['min_available']} is not below the app's {floor} replicas: no pod"
                " could ever be evicted (node drains and upgrades would block)",
            )


def _check_apps(apps: list, path: str, ctx: Context) -> None:
    """Namespace labels must agree between the apps that share a namespace."""
    labels: dict[str, dict[str, tuple[str, int]]] = {}
    for index, app in enumerate(apps):
        namespace = app.get("namespace")
        if not isinstance(namespace, str) or not isinstance(app.get("namespace_labels"), dict):
            continue
        seen = labels.setdefault(namespace, {})
        for key, value in app["namespace_labels"].items():
            if key in seen and seen[key][0] != value:
                ctx.error(
                    child(child(item(path, index), "namespace_labels"), key),
                    f"{describe(value)} conflicts with {describe(seen[key][0])} given for namespace"
                    f" {namespace} by {item(path, seen[key][1])}",
                )
            seen.setdefault(key, (value, index))


_CPU_SPEC = _str(pattern=_CPU, expect='a CPU quantity ("250m", "1", "0.5")')
_MEMORY_SPEC = _str(pattern=_MEMORY, expect='a memory quantity ("512Mi", "1Gi")')

APP = _dict(
    {
        "name": _str(
            required=True,
            pattern=f"(?=.{{1,{APP_NAME_MAX}}}$){_DNS_LABEL}",
            expect=f"a DNS-1035 label of at most {APP_NAME_MAX} characters"
            " (^[a-z]([-a-z0-9]*[a-z0-9])?$)",
        ),
        "namespace": _str(
            required=True,
            pattern=f"(?=.{{1,63}}$)(?!({'|'.join(RESERVED_NAMESPACES)})$){_DNS_1123_LABEL}",
            expect="a DNS-1123 label of at most 63 characters, not "
            + ", ".join(RESERVED_NAMESPACES),
        ),
        "namespace_labels": _str_map(default={}),
        "image": _str(
            required=True,
            pattern=IMAGE_PATTERN,
            expect="an image reference (registry/repository:tag or repository@sha256:...)",
            check=_check_image,
        ),
        "replicas": _int(minimum=0, default=2),
        "node_group": _str(
            required=True, pattern=r"[a-z][a-z0-9-]{0,30}", expect="a node group name"
        ),
        "port": _int(minimum=1, maximum=65535, default=8080),
        "health_path": _str(
            pattern=r"/[^\s]*", expect="an HTTP path starting with /", default="/health"
        ),
        "readiness_path": _str(
            pattern=r"/[^\s]*",
            expect="an HTTP path starting with /",
            default=lambda _ctx, app: app.get("health_path", "/health"),
        ),
        "resources": _dict(
            {
                "requests": _dict(
                    {"cpu": _CPU_SPEC, "memory": _MEMORY_SPEC},
                    default={"cpu": "100m", "memory": "128Mi"},
                ),
                "limits": _dict(
                    {"cpu": _CPU_SPEC, "memory": _MEMORY_SPEC},
                    default={"cpu": "500m", "memory": "512Mi"},
                ),
            },
            default={},
            rules=(_rule_app_resources,),
        ),
        "env": _str_map(default={}, check=_check_env_names),
        "database": _str(nullable=True, default=None),
        "cache": _str(nullable=True, default=None),
        "secrets": Spec("list", items=_str(), unique=True, default=[]),
        "iam_policy_arns": Spec(
            "list",
            items=_str(
                pattern=r"arn:aws(-[a-z]+)*:iam::(\d{12}|aws):policy/[\w+=,.@/-]+",
                expect="an IAM policy ARN",
            ),
            unique=True,
            default=[],
        ),
        "ingress": _dict(
            {
                "host": _str(
                    required=True,
                    pattern=r"(?=.{1,253}$)(\*\.)?([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,63}",
                    expect="a DNS host name",
                ),
                "path": _str(
                    pattern=r"/[^\s]*", expect="an HTTP path starting with /", default="/"
                ),
                "certificate_arn": _str(
                    pattern=r"arn:aws(-[a-z]+)*:acm:[a-z0-9-]+:\d{12}:certificate/[\w-]+",
                    expect="an ACM certificate ARN",
                    nullable=True,
                    default=None,
                ),
                "scheme": _str(choices=("internet-facing", "internal"), default="internet-facing"),
                "group": _str(
                    pattern=r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?",
                    expect="an ALB ingress group name",
                    nullable=True,
                    default=None,
                ),
            },
            nullable=True,
            default=None,
        ),
        "autoscaling": _dict(
            {
                "min_replicas": _int(minimum=1, nullable=True, default=None),
                "max_replicas": _int(required=True, minimum=1),
                "cpu_target": _int(minimum=1, maximum=100, default=70),
                "memory_target": _int(minimum=1, maximum=100, nullable=True, default=None),
                "scale_up_window_seconds": _int(minimum=0, maximum=3600, default=0),
                "scale_down_window_seconds": _int(minimum=0, maximum=3600, default=300),
            },
            nullable=True,
            default=None,
            rules=(_rule_autoscaling,),
        ),
        "disruption": Spec("dict", nullable=True, default=None, check=_check_disruption),
        "allow_from": Spec(
            "list",
            items=_dict(
                {
                    "namespace": _str(
                        pattern=f"(?=.{{1,63}}$){_DNS_1123_LABEL}",
                        expect="a namespace name",
                        nullable=True,
                        default=None,
                    ),
                    "app": _str(
                        pattern=f"(?=.{{1,63}}$){_DNS_1123_LABEL}",
                        expect="an app name",
                        nullable=True,
                        default=None,
                    ),
                },
                rules=(_rule_flow,),
            ),
            default=[],
        ),
        "slo": Spec("dict", nullable=True, default=None, check=_check_slo),
        "blue_green": _dict(
            {
                "enabled": _bool(False),
                "preview": _bool(True),
                "preview_replicas": _int(minimum=0, default=1),
                "promotion": _str(choices=("auto", "manual"), default="auto"),
                "min_ready_seconds": _int(minimum=0, default=10),
                "scale_down_delay": _int(minimum=0, default=30),
                "keep_previous": _bool(False),
                # The blue_green module's pre_analysis / post_analysis options, passed as given
                # (the module validates them); a failed post-promotion analysis rolls back.
                # Their URLs may carry credentials (https://user:password@prometheus...).
                "pre_analysis": Spec("dict", default={}, sensitive=True),
                "post_analysis": Spec("dict", default={}, sensitive=True),
            },
            default={},
        ),
    },
    rules=(_rule_app,),
)


# --- Disaster recovery (DR promotion, failover, failback, drills) --------------------------------

DR_ROUTE53_MODES = ("failover", "weighted", "cname")
DR_HEALTH_CHECK_TYPES = ("TCP", "HTTP", "HTTPS")
_DNS_NAME = r"(?=.{1,253}\.?$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}\.?"


def _dr_databases(ctx: Context) -> list[str]:
    """The databases with a cross-region DR replica."""
    databases = ctx.root.get("databases")
    if not isinstance(databases, dict):
        return []
    return [
        name
        for name, db in databases.items()
        if isinstance(db, dict) and (db.get("dr_replica") or {}).get("enabled")
    ]


def _default_dr_databases(ctx: Context, _parent: dict) -> list[str]:
    return _dr_databases(ctx)


def _rule_dr(dr: dict, path: str, ctx: Context) -> None:
    db_path = child(path, "databases")
    if ctx.valid(db_path, child(ROOT, "databases")):
        eligible = _dr_databases(ctx)
        for index, name in enumerate(dr.get("databases") or []):
            if name not in eligible:
                ctx.error(
                    item(db_path, index),
                    f"{describe(name)} is not a database with dr_replica.enabled"
                    f" (expected one of: {', '.join(eligible) or 'none'})",
                )
    route53 = dr.get("route53")
    records_path = child(child(path, "route53"), "records")
    if isinstance(route53, dict) and ctx.valid(records_path, db_path):
        for name in route53.get("records") or {}:
            if name not in (dr.get("databases") or []):
                ctx.error(
                    child(records_path, name),
                    "names no database under platform.dr.databases",
                )


DR_HEALTH_CHECK = _dict(
    {
        "enabled": _bool(True),
        "type": _str(choices=DR_HEALTH_CHECK_TYPES, default="TCP"),
        # null: the database port.
        "port": _int(minimum=1, maximum=65535, nullable=True, default=None),
        "resource_path": _str(nullable=True, default=None),
        "request_interval": _int(choices=(10, 30), default=30),
        "failure_threshold": _int(minimum=1, maximum=10, default=3),
    },
    default={},
)

DR_ROUTE53 = _dict(
    {
        "zone": _str(
            required=True, pattern=_DNS_NAME, expect="a DNS zone name (e.g. db.example.com)"
        ),
        "private_zone": _bool(False),
        # Record name per database; default <database>.<zone>.
        "records": Spec(
            "dict", values=_str(pattern=_DNS_NAME, expect="a DNS record name"), default={}
        ),
        "ttl": _int(minimum=0, maximum=172800, default=60),
        "mode": _str(choices=DR_ROUTE53_MODES, default="failover"),
        "health_check": DR_HEALTH_CHECK,
    },
    nullable=True,
    default=None,
)

DR = _dict(
    {
        "rpo_seconds": _int(minimum=1, default=300),
        "rto_seconds": _int(minimum=1, default=3600),
        "databases": Spec(
            "list",
            items=_str(),
            unique=True,
            default=_default_dr_databases,
        ),
        "fence": _bool(True),
        "reprotect": _bool(True),
        # false: re-protection starts the replica's creation and the report says it is in progress.
        "reprotect_wait": _bool(True),
        "multi_az_after_promotion": Spec("bool", default=_default_when_production),
        # null: the database's backup_retention_days.
        "backup_retention": _int(minimum=1, maximum=35, nullable=True, default=None),
        "check_pending_maintenance": _bool(True),
        "wait_timeout": _int(minimum=60, default=3600),
        "poll_interval": _int(minimum=1, maximum=60, default=5),
        "route53": DR_ROUTE53,
        "repoint_apps": _bool(True),
        "drill": _dict(
            {
                "namespace": _str(
                    pattern=r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?",
                    expect="a namespace name (DNS-1123 label)",
                    default="plinth-dr-drill",
                ),
                "instance_class": _str(
                    pattern=_DB_CLASS,
                    expect="an RDS instance class (db.*)",
                    nullable=True,
                    default=None,
                ),
            },
            default={},
        ),
        "report_dir": _str(pattern=r".+", expect="a directory path", default="reports"),
    },
    default={},
    rules=(_rule_dr,),
)


PLATFORM = _dict(
    {
        "name": _str(
            required=True,
            pattern=r"[a-z][a-z0-9-]{1,30}[a-z0-9]",
            expect="a lowercase name matching ^[a-z][a-z0-9-]{1,30}[a-z0-9]$",
        ),
        "environment": _str(required=True, choices=("development", "staging", "production")),
        "region": _str(
            required=True,
            pattern=r"[a-z]{2}(-gov)?-[a-z]+-\d",
            expect="an AWS region name (e.g. us-east-1)",
        ),
        "dr_region": _str(
            pattern=r"[a-z]{2}(-gov)?-[a-z]+-\d",
            expect="an AWS region name (e.g. us-west-2)",
            nullable=True,
            default=None,
        ),
        "availability_zones": _availability_zones("us-east-1a", required=True),
        "tags": _str_map(default={}, check=_check_tags),
        "network": NETWORK,
        "eks": EKS,
        "databases": Spec("dict", values=DATABASE, default={}, check=_check_database_names),
        # Reserved for later layers: accepted as given, type-checked only.
        "caches": Spec("dict", values=CACHE, default={}, rules=(_rule_caches,)),
        "kms_keys": Spec("list", items=KMS_KEY, unique_key="name", default=[]),
        "buckets": Spec(
            "list", items=BUCKET, unique_key="name", default=[], check=_check_bucket_names
        ),
        "secrets": Spec("list", items=SECRET, unique_key="name", default=[]),
        "monitoring": MONITORING,
        "apps": Spec("list", items=APP, unique_key="name", default=[], check=_check_apps),
        "apps_prune": _bool(False),
        "dr": DR,
    },
    required=True,
    rules=(_rule_platform,),
)


# --- Subnet planning ----------------------------------------------------------------------------


def plan_subnets(
    vpc_cidr: str,
    azs: list[str],
    overrides: Mapping[str, Mapping[str, Any]],
    network_path: str,
    ctx: Context,
) -> dict[str, list[dict[str, str]]]:
    """Plan one subnet per AZ for every tier (docs/config.md, "Subnet planning").

    Explicit ``cidrs`` are reserved first; the other tiers then take, in tier and AZ order, the
    lowest free block of their prefix inside the VPC (``IPv4Network.subnets`` yields only aligned
    blocks). Problems are reported to ``ctx``; the returned plan is then incomplete. A tier whose
    override already failed validation is skipped, so its errors are not reported twice.
    """
    vpc = ipaddress.IPv4Network(vpc_cidr)
    subnets_path = child(network_path, "subnets")
    cidr_path = child(network_path, "cidr")
    taken: list[tuple[ipaddress.IPv4Network, str]] = []
    plan: dict[str, list[dict[str, str]]] = {tier: [] for tier in SUBNET_TIERS}
    prefixes: dict[str, int] = {}

    for tier in SUBNET_TIERS:
        tier_path = child(subnets_path, tier)
        if not ctx.valid(tier_path) or not isinstance(overrides, Mapping):
            continue
        override = overrides.get(tier, {})
        cidrs = override.get("cidrs") or []
        if cidrs:
            _reserve_explicit(tier, tier_path, cidrs, azs, vpc, cidr_path, taken, plan, ctx)
            continue
        default = min(vpc.prefixlen + _TIER_PREFIX_DELTA[tier], MAX_SUBNET_PREFIX)
        prefix = override.get("prefix", default)
        if prefix <= vpc.prefixlen:
            ctx.error(
                child(tier_path, "prefix"),
                f"{prefix} is not longer than the VPC's /{vpc.prefixlen}"
                f" (expected /{vpc.prefixlen + 1}../{MAX_SUBNET_PREFIX})",
            )
            continue
        prefixes[tier] = prefix

    for tier, prefix in prefixes.items():
        for zone in azs:
            block = _lowest_free(vpc, prefix, taken)
            if block is None:
                sizes = ", ".join(f"{name} /{length}" for name, length in prefixes.items())
                ctx.error(
                    cidr_path,
                    f"{describe(vpc_cidr)} cannot hold one subnet per AZ for {len(azs)} AZs"
                    f" ({sizes}): more AZs than the CIDR can hold (no room left for the {tier}"
                    f" subnet in {zone}); use a larger VPC CIDR, fewer AZs or longer prefixes"
                    f" under {subnets_path}",
                )
                return plan
            taken.append((block, f"{child(subnets_path, tier)} ({zone})"))
            plan[tier].append({"az": zone, "cidr": str(block)})
    return plan


def _reserve_explicit(
    tier: str,
    tier_path: str,
    cidrs: list[str],
    azs: list[str],
    vpc: ipaddress.IPv4Network,
    cidr_path: str,
    taken: list[tuple[ipaddress.IPv4Network, str]],
    plan: dict[str, list[dict[str, str]]],
    ctx: Context,
) -> None:
    cidrs_path = child(tier_path, "cidrs")
    if len(cidrs) != len(azs):
        ctx.error(
            cidrs_path,
            f"{describe(cidrs)} has {len(cidrs)} CIDRs, expected one per availability zone"
            f" ({len(azs)})",
        )
    for index, cidr in enumerate(cidrs[: len(azs)]):
        zone, path = azs[index], item(cidrs_path, index)
        block = ipaddress.IPv4Network(cidr)
        if not block.subnet_of(vpc):
            ctx.error(path, f"{describe(cidr)} is outside {cidr_path} ({vpc})")
            continue
        if not vpc.prefixlen < block.prefixlen <= MAX_SUBNET_PREFIX:
            ctx.error(
                path,
                f"{describe(cidr)} has prefix /{block.prefixlen},"
                f" expected /{vpc.prefixlen + 1}../{MAX_SUBNET_PREFIX}",
            )
            continue
        clash = next((owner for other, owner in taken if block.overlaps(other)), None)
        if clash is not None:
            ctx.error(path, f"{describe(cidr)} overlaps {clash}")
            continue
        taken.append((block, f"{path} ({cidr})"))
        plan[tier].append({"az": zone, "cidr": str(block)})


def _lowest_free(
    vpc: ipaddress.IPv4Network, prefix: int, taken: list[tuple[ipaddress.IPv4Network, str]]
) -> ipaddress.IPv4Network | None:
    for block in vpc.subnets(new_prefix=prefix):
        if not any(block.overlaps(other) for other, _owner in taken):
            return block
    return None


# --- Entry point --------------------------------------------------------------------------------


def validate_platform(raw: Any) -> tuple[dict[str, Any], list[str]]:
    """Validate and normalise the ``platform`` value.

    Returns ``(config, errors)``; ``errors`` is empty when the config is valid, otherwise it holds
    one message per problem (``<key path>: <value> <what is wrong / expected>``) and ``config`` is
    a partial best effort that must not be used.
    """
    config, ctx = _validate(raw)
    return config, ctx.errors


def secret_values(raw: Any) -> set[str]:
    """Every string of ``raw`` at a key that may hold a secret (``Spec.sensitive``), valid or not:
    what a module must add to its ``no_log_values``."""
    return _validate(raw)[1].secrets


def _validate(raw: Any) -> tuple[dict[str, Any], Context]:
    ctx = Context()
    if raw is None:
        ctx.error(ROOT, "is required, expected a mapping")
        return {}, ctx
    config = normalise(PLATFORM, raw, ROOT, ctx)
    return (config if isinstance(config, dict) else {}), ctx


# --- Shared by the module and the action plugin -------------------------------------------------

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {"config": {"type": "raw", "required": True}}


def result_for(raw: Any) -> dict[str, Any]:
    """The task result for ``config: raw``, identical from the module and the action plugin.

    Success: ``changed``, ``config`` (normalised) and ``subnets`` (the plan). Failure: ``failed``,
    ``changed``, ``errors`` (one message per problem) and ``msg`` (a summary line, then every
    error on its own line).
    """
    config, errors = validate_platform(raw)
    if errors:
        count = f"{len(errors)} error{'s' if len(errors) != 1 else ''}"
        return {
            "failed": True,
            "changed": False,
            "msg": "\n".join([f"The environment config is invalid ({count}):", *errors]),
            "errors": errors,
        }
    return {"changed": False, "config": config, "subnets": config["network"]["subnets"]}
