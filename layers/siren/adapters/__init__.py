"""Adapters at the edges: DynamoDB, EventBridge, SNS, SES, End User Messaging, S3, Step Functions."""
