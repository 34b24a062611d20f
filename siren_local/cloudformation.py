"""CloudFormation resource types that moto 5.2.5 skips, made real enough to deploy Siren's template.

moto ignores a resource type it does not know (with a warning), and its ``Ref`` then resolves to nothing.
Each class here is a CloudFormation model registered with moto's parser:

- resources with a local meaning are created in the matching moto backend (``AWS::SNS::Subscription``);
- resources that have no local meaning (CloudFront, policies on resources moto does not enforce) are
  recorded, with the attributes the template reads (``DomainName``...), so that references resolve and
  ``describe_stack_resources`` lists them.

:func:`unsupported_types` lists what a template needs that neither moto nor this module provides: the deploy
fails on it instead of deploying half a stack.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any, ClassVar

from moto.cloudformation import parsing
from moto.core.common_models import CloudFormationModel


class LocalResource(CloudFormationModel):
    """A resource whose state lives here; subclasses define ``TYPE`` and, if needed, ``create``."""

    TYPE: ClassVar[str] = ""
    NAME_PROPERTY: ClassVar[str] = ""
    ATTRIBUTES: ClassVar[tuple[str, ...]] = ()

    def __init__(self, physical_id: str, properties: dict[str, Any], attributes: dict[str, Any]) -> None:
        self.physical_id = physical_id
        self.properties = properties
        self.attributes = attributes

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.NAME_PROPERTY

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name not in self.attributes:
            raise KeyError(f"{self.TYPE} has no attribute {attribute_name} locally")
        return self.attributes[attribute_name]

    def is_created(self) -> bool:
        return True

    @classmethod
    def create(cls, name: str, properties: dict[str, Any], account_id: str, region: str) -> LocalResource:
        return cls(name, properties, {})

    @classmethod
    def update(
        cls, original: LocalResource, name: str, properties: dict[str, Any], account_id: str, region: str
    ) -> LocalResource:
        """A stack update changed the resource's properties: by default it is created anew with them."""
        return cls.create(name, properties, account_id, region)

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> LocalResource:
        return cls.create(resource_name, cloudformation_json.get("Properties", {}), account_id, region_name)

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> LocalResource:
        properties = cloudformation_json.get("Properties", {})
        return cls.update(original_resource, new_resource_name, properties, account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        return None


def _short_id(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:14].upper()


class CloudFrontDistribution(LocalResource):
    """Locally, the status page is served by the runtime itself (see server.py); this records the config."""

    TYPE = "AWS::CloudFront::Distribution"
    ATTRIBUTES = ("DomainName", "Id")

    @classmethod
    def create(cls, name: str, properties: dict[str, Any], account_id: str, region: str) -> LocalResource:
        distribution_id = "E" + _short_id(name)
        return cls(
            distribution_id,
            properties,
            {"Id": distribution_id, "DomainName": f"{distribution_id.lower()}.cloudfront.local"},
        )


class CloudFrontOriginAccessControl(LocalResource):
    TYPE = "AWS::CloudFront::OriginAccessControl"
    ATTRIBUTES = ("Id",)

    @classmethod
    def create(cls, name: str, properties: dict[str, Any], account_id: str, region: str) -> LocalResource:
        control_id = "E" + _short_id("oac" + name)
        return cls(control_id, properties, {"Id": control_id})


class CloudFrontResponseHeadersPolicy(LocalResource):
    """Recorded: locally the runtime serves the status page with the headers of this policy (its properties are the
    source, so the page is tested with what CloudFront will send)."""

    TYPE = "AWS::CloudFront::ResponseHeadersPolicy"
    ATTRIBUTES = ("Id", "LastModifiedTime")

    @classmethod
    def create(cls, name: str, properties: dict[str, Any], account_id: str, region: str) -> LocalResource:
        policy_id = _short_id("rhp" + name).lower()
        return cls(policy_id, properties, {"Id": policy_id, "LastModifiedTime": "2026-01-01T00:00:00Z"})


class ResourcePolicy(LocalResource):
    """Resource policies: recorded; moto does not enforce IAM, and neither does the local runtime."""


def recorded_types(base: type[LocalResource], *resource_types: str) -> tuple[type[LocalResource], ...]:
    """One subclass of ``base`` per resource type, with no behaviour of its own: ``base``'s docstring says why such
    a resource is only recorded. Each is named after its type (``AWS::S3::BucketPolicy``: ``S3BucketPolicy``)."""
    return tuple(
        type(resource_type.removeprefix("AWS::").replace("::", ""), (base,), {"TYPE": resource_type})
        for resource_type in resource_types
    )


RESOURCE_POLICY_TYPES = recorded_types(
    ResourcePolicy,
    "AWS::S3::BucketPolicy",
    "AWS::SNS::TopicPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::Events::EventBusPolicy",
)


class LambdaEventInvokeConfig(LocalResource):
    """Retry and age limits of asynchronous invocations: the local runtime applies Lambda's defaults."""

    TYPE = "AWS::Lambda::EventInvokeConfig"


class SnsSubscription(LocalResource):
    """moto skips AWS::SNS::Subscription; it is how the stack wires topics to functions."""

    TYPE = "AWS::SNS::Subscription"
    ATTRIBUTES = ("Arn",)

    @classmethod
    def create(cls, name: str, properties: dict[str, Any], account_id: str, region: str) -> LocalResource:
        from moto.sns.models import sns_backends

        topic_arn = properties["TopicArn"]
        topic_region = topic_arn.split(":")[3]
        backend = sns_backends[account_id][topic_region]
        subscription = backend.subscribe(topic_arn, properties["Endpoint"], properties["Protocol"])
        for attribute in ("FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy"):
            if attribute in properties:
                value = properties[attribute]
                if isinstance(value, (dict, list)):
                    import json

                    value = json.dumps(value)
                backend.set_subscription_attributes(
                    subscription.arn, attribute, str(value).lower() if isinstance(value, bool) else value
                )
        return cls(subscription.arn, properties, {"Arn": subscription.arn})


class CloudWatchAlarm(LocalResource):
    """moto has no CloudFormation model for AWS::CloudWatch::Alarm: created with the backend's PutMetricAlarm, so
    that ``describe_alarms`` lists it with its actions, as deployed (moto stores alarms; it does not evaluate them).
    Metric alarms only: Siren's template has no metric-math or composite alarms."""

    TYPE = "AWS::CloudWatch::Alarm"
    NAME_PROPERTY = "AlarmName"
    ATTRIBUTES = ("Arn",)

    @classmethod
    def create(cls, name: str, properties: dict[str, Any], account_id: str, region: str) -> LocalResource:
        from moto.cloudwatch.models import cloudwatch_backends

        if "Metrics" in properties:
            raise NotImplementedError(f"{name}: metric-math alarms are not supported locally yet")
        alarm_name = properties.get("AlarmName") or name
        alarm = cloudwatch_backends[account_id][region].put_metric_alarm(
            name=alarm_name,
            namespace=properties["Namespace"],
            metric_name=properties["MetricName"],
            comparison_operator=properties["ComparisonOperator"],
            evaluation_periods=int(properties["EvaluationPeriods"]),
            period=int(properties["Period"]),
            threshold=float(properties["Threshold"]),
            statistic=properties.get("Statistic", ""),
            extended_statistic=properties.get("ExtendedStatistic"),
            description=properties.get("AlarmDescription", ""),
            dimensions=[{"Name": d["Name"], "Value": d["Value"]} for d in properties.get("Dimensions", [])],
            alarm_actions=list(properties.get("AlarmActions", [])),
            ok_actions=list(properties.get("OKActions", [])),
            insufficient_data_actions=list(properties.get("InsufficientDataActions", [])),
            datapoints_to_alarm=int(properties["DatapointsToAlarm"]) if "DatapointsToAlarm" in properties else None,
            treat_missing_data=properties.get("TreatMissingData"),
            unit=properties.get("Unit"),
            actions_enabled=bool(properties.get("ActionsEnabled", True)),
        )
        return cls(alarm_name, properties, {"Arn": alarm.alarm_arn})

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        from moto.cloudwatch.models import cloudwatch_backends

        cloudwatch_backends[account_id][region_name].delete_alarms([resource_name])


LOCAL_RESOURCE_TYPES: tuple[type[LocalResource], ...] = (
    CloudWatchAlarm,
    CloudFrontDistribution,
    CloudFrontOriginAccessControl,
    CloudFrontResponseHeadersPolicy,
    *RESOURCE_POLICY_TYPES,
    LambdaEventInvokeConfig,
    SnsSubscription,
)

# Types that need no local counterpart at all (CDK metadata, bootstrap checks).
IGNORED_TYPES = frozenset({"AWS::CDK::Metadata"})


def unsupported_types(template: dict[str, Any]) -> set[str]:
    known = set(parsing.get_model_map()) | IGNORED_TYPES | set(parsing.NULL_MODELS)
    return {
        resource["Type"]
        for resource in template.get("Resources", {}).values()
        if resource["Type"] not in known and not resource["Type"].startswith("Custom::")
    }


def _local_types() -> list[type[LocalResource]]:
    found: list[type[LocalResource]] = []
    pending: list[type[LocalResource]] = list(LocalResource.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.TYPE:
            found.append(cls)
    return found


_moto_model_list = parsing.get_model_list


@functools.cache
def _model_list_with_local_types() -> list[type[CloudFormationModel]]:
    # moto lists only the direct subclasses of CloudFormationModel; local types sit one level below.
    return [model for model in _moto_model_list() if model is not LocalResource] + _local_types()


def install(extra_types: tuple[type[LocalResource], ...] = ()) -> None:
    from moto.awslambda.models import LayerVersion
    from moto.events.models import EventBus

    # ``Ref`` of an AWS::Events::EventBus is its name; moto's model has no physical id, so Ref gave the object.
    setattr(EventBus, "physical_resource_id", property(lambda self: self.name))  # noqa: B010
    # ``Ref`` of an AWS::Lambda::LayerVersion is its version ARN (moto gave the object, which a function's
    # Layers cannot hold), and its name property is LayerName (moto looked for "LayerVersion").
    if not hasattr(LayerVersion, "arn") or not hasattr(LayerVersion, "cloudformation_name_type"):
        raise RuntimeError("moto changed: LayerVersion.arn or cloudformation_name_type is gone")
    setattr(LayerVersion, "physical_resource_id", property(lambda self: self.arn))  # noqa: B010
    setattr(LayerVersion, "cloudformation_name_type", staticmethod(lambda: "LayerName"))  # noqa: B010
    setattr(parsing, "get_model_list", _model_list_with_local_types)  # noqa: B010
    _model_list_with_local_types.cache_clear()
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()
    registered = parsing.get_model_map()
    expected = LOCAL_RESOURCE_TYPES + extra_types
    missing = [cls.TYPE for cls in expected if registered.get(cls.TYPE) is not cls]
    if missing:
        raise RuntimeError(f"local CloudFormation types not registered with moto: {missing}")
