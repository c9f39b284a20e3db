"""Deployment as code: the CDK app that puts Closeloop in an AWS account (see README, "Deploying to AWS")."""
