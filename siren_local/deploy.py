"""Deploy a synthesized CDK cloud assembly into the embedded local AWS, as ``cdk deploy`` would into AWS.

The steps mirror CDK's: bootstrap (the assets bucket and the bootstrap version parameter), publish the file
assets named in the assembly's asset manifest (directories zipped deterministically), then CloudFormation
CreateStack with the synthesized template, unchanged. Any client pointed at the runtime sees the stack.
"""

from __future__ import annotations

import functools
import io
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from siren_local import deploy_costs
from siren_local.cloudformation import unsupported_types

BOOTSTRAP_QUALIFIER = "hnb659fds"
BOOTSTRAP_VERSION = "30"
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


class DeployError(RuntimeError):
    pass


@dataclass(frozen=True)
class DeployedStack:
    name: str
    stack_id: str
    outputs: dict[str, str]
    template: dict[str, Any]
    region: str


def zip_directory(directory: Path) -> bytes:
    """A reproducible zip of ``directory``: sorted entries, fixed timestamps, so equal trees give equal bytes.

    Made once per tree state: a process deploys the same assembly many times (each test's runtime), and a cloud
    assembly's asset directories do not change (their names are their content's hash); the key still includes
    every file's size and modification time, so a directory changed in place is zipped again."""
    files = sorted(p for p in directory.rglob("*") if not p.is_dir() and "__pycache__" not in p.parts)
    state = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    return _zipped(directory, state)


@functools.lru_cache(maxsize=32)
def _zipped(directory: Path, state: tuple[tuple[str, int, int], ...]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, _size, _mtime in state:
            path = Path(name)
            info = zipfile.ZipInfo(str(path.relative_to(directory)), date_time=_FIXED_ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def _substitute(text: str, account: str, region: str) -> str:
    return (
        text.replace("${AWS::AccountId}", account).replace("${AWS::Region}", region).replace("${AWS::Partition}", "aws")
    )


def bootstrap(clients: Any, account: str, region: str) -> str:
    """What ``cdk bootstrap`` leaves behind that a deploy reads: the assets bucket and the version parameter."""
    bucket = f"cdk-{BOOTSTRAP_QUALIFIER}-assets-{account}-{region}"
    s3 = clients("s3")
    try:
        if region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    clients("ssm").put_parameter(
        Name=f"/cdk-bootstrap/{BOOTSTRAP_QUALIFIER}/version",
        Value=BOOTSTRAP_VERSION,
        Type="String",
        Overwrite=True,
    )
    return bucket


def publish_assets(clients: Any, assembly_dir: Path, stack_name: str, account: str, region: str) -> int:
    """Upload the stack's file assets where its template expects them; returns the bytes uploaded."""
    manifest_path = assembly_dir / f"{stack_name}.assets.json"
    manifest = json.loads(manifest_path.read_text())
    s3 = clients("s3")
    uploaded = 0
    for asset in manifest.get("files", {}).values():
        source = assembly_dir / asset["source"]["path"]
        if asset["source"].get("packaging") == "zip" or source.is_dir():
            body = zip_directory(source)
        else:
            body = source.read_bytes()
        for destination in asset["destinations"].values():
            s3.put_object(
                Bucket=_substitute(destination["bucketName"], account, region),
                Key=_substitute(destination["objectKey"], account, region),
                Body=body,
            )
            uploaded += len(body)
    if manifest.get("dockerImages"):
        raise DeployError("the stack has Docker image assets; the embedded local AWS has no Docker")
    return uploaded


def deploy_stack(
    clients: Any, assembly_dir: Path, stack_name: str, parameters: dict[str, str] | None = None
) -> DeployedStack:
    """Bootstrap, publish assets and create ``stack_name`` from ``assembly_dir`` (a synthesized cdk.out), in the
    region of the clients ``clients`` makes."""
    template_path = assembly_dir / f"{stack_name}.template.json"
    if not template_path.exists():
        raise DeployError(f"{template_path} does not exist: synthesize the app first")
    template = json.loads(template_path.read_text())
    deploy_costs.install()  # moto's CreateStack reads this JSON as JSON, and keeps symmetric KMS keys cheap
    missing = unsupported_types(template)
    if missing:
        raise DeployError(f"the embedded local AWS cannot create these resource types yet: {sorted(missing)}")
    identity = clients("sts").get_caller_identity()
    account = identity["Account"]
    region = clients("s3").meta.region_name
    bootstrap(clients, account, region)
    publish_assets(clients, assembly_dir, stack_name, account, region)
    cloudformation = clients("cloudformation")
    response = cloudformation.create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in (parameters or {}).items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    stack = cloudformation.describe_stacks(StackName=response["StackId"])["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        reason = stack.get("StackStatusReason", "no reason given")
        raise DeployError(f"stack {stack_name} ended in {stack['StackStatus']}: {reason}")
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
    empty = [name for name, value in outputs.items() if value in ("", "None", None) or value.startswith("<moto.")]
    if empty:
        raise DeployError(f"stack outputs did not resolve locally: {empty}")
    return DeployedStack(
        name=stack_name, stack_id=response["StackId"], outputs=outputs, template=template, region=region
    )


def assembly_region(assembly_dir: Path, stack_name: str) -> str | None:
    """The region ``stack_name`` was synthesized for (its ``env``), or None for a region-agnostic stack."""
    manifest = json.loads((assembly_dir / "manifest.json").read_text())
    environment = manifest["artifacts"][stack_name]["environment"]  # aws://<account>/<region>
    region = str(environment).rsplit("/", 1)[-1]
    return None if region.startswith("unknown-") else region


def default_region() -> str:
    return os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
