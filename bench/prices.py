"""Public AWS prices the bench models its costs with: us-east-1, on-demand, US destinations for SMS and voice.

Each price says where it was checked (the bench's search of public pricing pages and transcriptions of them, in
2026) or that it is assumed. An assumed price is one the search did not confirm; the bill's note says so too.
"""

from __future__ import annotations

# Per unit of use.
PRICES = {
    # aws.amazon.com/step-functions/pricing: Standard workflows, $0.025 per 1,000 state transitions (checked: a
    # Price List API walk-through, gist alexcasalboni, and the serverless cost table of gist allenheltondev).
    "step_functions_transition": 0.025 / 1000,
    # aws.amazon.com/lambda/pricing: $0.20 per million requests (checked: the pricing page's transcription,
    # api-evangelist/aws-lambda); Arm $0.0000133334 per GB-second (checked: artillery's lambda prices.js, arm64
    # 1333340e-10). The free tier (1 M requests, 400,000 GB-s) is left out: the bill is what the usage costs.
    "lambda_request": 0.20 / 1_000_000,
    "lambda_gb_second_arm": 0.0000133334,
    # aws.amazon.com/dynamodb/pricing/on-demand: $0.625 per million write request units, $0.125 per million read
    # request units since the November 2024 cut (assumed: the page's rate table did not come through the search).
    "dynamodb_write_request": 0.625 / 1_000_000,
    "dynamodb_read_request": 0.125 / 1_000_000,
    # End User Messaging, US toll-free: base price + carrier fee (assumed: the pricing page is rendered client-side;
    # the $0.0025 toll-free carrier pass-through fee was checked on Plivo's carrier surcharge note).
    "sms_us_toll_free": 0.00581 + 0.0025,
    # An inbound SMS (an acknowledgement reply) on a toll-free number (assumed: priced as the outbound base price).
    "sms_inbound_us_toll_free": 0.00581,
    # End User Messaging voice, US, per minute, billed by the started minute (assumed).
    "voice_us_minute": 0.013,
    # aws.amazon.com/ses/pricing: $0.10 per 1,000 emails (assumed).
    "email": 0.10 / 1000,
}

# Per month, for what exists whether or not anything breaks.
MONTHLY_PRICES = {
    # aws.amazon.com/cloudwatch/pricing: a standard-resolution alarm, $0.10 per alarm metric (checked: infracost's
    # output, vreutova/infracost-idem-support#2); a custom metric $0.30 (checked: the pricing page's tiers, as
    # quoted in nishinoshake/aws-rough#37).
    "cloudwatch_alarm": 0.10,
    "cloudwatch_custom_metric": 0.30,
    # aws.amazon.com/secrets-manager/pricing: $0.40 per secret (checked: api-evangelist/amazon-secrets-manager).
    "secret": 0.40,
    # aws.amazon.com/kms/pricing: $1 per customer managed key (checked: gist dasgoll, the KMS pricing example).
    # A rotated key costs $1 more for each of its first two rotations: a year on, $2 per key (left out).
    "kms_key": 1.00,
    # End User Messaging: leasing a US toll-free number, $2 per month (assumed: the page did not come through).
    "us_toll_free_number": 2.00,
    # DynamoDB on-demand storage, $0.25 per GB-month, and point-in-time recovery, $0.20 per GB-month (checked:
    # the serverless cost table of gist allenheltondev).
    "dynamodb_gb": 0.25 + 0.20,
    # CloudWatch Logs storage, $0.03 per GB-month (checked: infracost's output, as above).
    "logs_stored_gb": 0.03,
}

# CloudWatch Logs ingestion, standard class: $0.50 per GB (checked: infracost's output, as above).
LOGS_INGESTED_GB = 0.50

# AWS API calls the functions make that are priced per request, by "service:Operation" (botocore's names).
API_CALL_PRICES = {
    # aws.amazon.com/s3/pricing, S3 Standard: PUT, COPY, POST, LIST $0.005 per 1,000; GET $0.0004 per 1,000;
    # DELETE free (checked: the serverless cost table of gist sofyan-ahmad).
    "s3:PutObject": 0.005 / 1000,
    "s3:CopyObject": 0.005 / 1000,
    "s3:ListObjectsV2": 0.005 / 1000,
    "s3:GetObject": 0.0004 / 1000,
    "s3:HeadObject": 0.0004 / 1000,
    "s3:DeleteObject": 0.0,
    "s3:DeleteObjects": 0.0,
    # $0.05 per 10,000 API calls (checked, as the secret above).
    "secretsmanager:GetSecretValue": 0.05 / 10_000,
    # EventBridge custom events, $1.00 per million (assumed).
    "events:PutEvents": 1.00 / 1_000_000,
    # CloudWatch PutMetricData, $0.01 per 1,000 requests (checked: the pricing page's API tier, as above).
    "cloudwatch:PutMetricData": 0.01 / 1000,
    # SNS publishes to topics: $0.50 per million (checked: gist allenheltondev).
    "sns:Publish": 0.50 / 1_000_000,
    # Charged through their own lines (Step Functions transitions, the channels) or free.
    "stepfunctions:StartExecution": 0.0,
    "stepfunctions:SendTaskSuccess": 0.0,
    "stepfunctions:SendTaskFailure": 0.0,
    "stepfunctions:SendTaskHeartbeat": 0.0,
    "stepfunctions:StopExecution": 0.0,
    "stepfunctions:DescribeExecution": 0.0,
    "stepfunctions:ListExecutions": 0.0,
    "pinpoint-sms-voice-v2:SendTextMessage": 0.0,
    "pinpoint-sms-voice-v2:SendVoiceMessage": 0.0,
    "sesv2:SendEmail": 0.0,
    "sesv2:GetEmailIdentity": 0.0,
    "lambda:Invoke": 0.0,
}

LAMBDA_PLATFORM_LOG_BYTES = 350  # START, END and REPORT lines of one invocation (assumed, from their usual length)
VOICE_MINUTES_PER_CALL = 1  # a page's call reads a short message and is billed by the started minute (assumed)
