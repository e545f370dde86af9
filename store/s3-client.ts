import { S3Client } from '@aws-sdk/client-s3';
import type { S3Config } from '../lib/config';

/**
 * An S3 client from Retrain's validated S3 settings. Credentials are left to the AWS default
 * chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, web identity, instance roles),
 * so a worker on EC2/EKS needs no keys in its environment.
 */
export function createS3Client(s3: S3Config): S3Client {
  return new S3Client({
    region: s3.region,
    forcePathStyle: s3.forcePathStyle,
    ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
    // The SDK retries throttling, 5xx and network errors itself (3 attempts); Temporal's
    // activity retries come on top for longer outages.
    maxAttempts: 3,
  });
}
