"""IAM enforced in the embedded local AWS: each function calls AWS as its own execution role, and every request is
authorized against the identity policies of its caller, so that a grant narrowed too far fails here, not on AWS.

Three parts, on top of the rules of evaluation (policy.py) and the request-to-action mapping (actions.py):

- **Who calls.** The runtime's own calls (deploys, Step Functions' interpreter, the CLI, tests) sign with the
  ``testing`` keys; here they are the keys of an IAM user that may do everything (:data:`ADMIN_USER`), as an
  operator's credentials are. Each Lambda invocation gets the credentials of its function's role, taken with STS
  AssumeRole (cached per role, renewed before they expire) and set in the function's environment
  (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``), as Lambda sets them
  (enforcement.py).
- **Which credentials a client signs with.** On AWS each function has a process of its own; here all share one,
  and clients are cached process-wide (a client made by one function is used by another). So a client that found
  its keys in the environment signs each request with the keys of the function running *now*
  (:class:`FunctionAwareCredentials`), else with the process's (credentials.py).
- **What is allowed.** moto 5.2.5 authorizes requests once ``INITIAL_NO_AUTH_ACTION_COUNT`` is reached, but its
  evaluation is too coarse to judge a least-privilege template: except for S3, SQS, IAM and STS it checks every
  action against the resource ``*`` (so any statement naming a resource never allows anything), and it ignores
  conditions. :func:`policy.evaluate` replaces its policy check (installed by enforcement.py; moto still finds the
  caller by its access key and checks a session's token; the signature is not verified): the resource is worked
  out from the request for the services Siren calls (:func:`actions.request_checks`), and the condition keys the
  runtime can know are evaluated (``dynamodb:LeadingKeys``, ``ses:FromAddress``, ``cloudwatch:namespace``).
  What cannot be known locally never refuses a request: see :data:`policy.NOT_CHECKED`.
"""
