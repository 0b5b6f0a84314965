import { S3Client } from '@aws-sdk/client-s3';
import { fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { BucketpipeError } from '../errors.js';
import { parseSecretRef, resolveSecret, unsetOrEmpty } from '../project/secret-ref.js';
import type { ConnectionSpec, SecretRef } from '../project/types.js';

/** A ready S3 client for one connection, plus the credentials the engine needs to read the same objects. */
export interface BucketAccess {
  connection: ConnectionSpec;
  client: S3Client;
  /** Resolves credentials through the same chain the client uses (env keys, profile, SSO, role). */
  credentials: AwsCredentialIdentityProvider;
}

/** How long an S3 connection may stay silent before the attempt is given up (and retried). */
const S3_IDLE_TIMEOUT_MS = 30_000;

export function createBucketAccess(declared: ConnectionSpec, env: NodeJS.ProcessEnv = process.env): BucketAccess {
  const connection = { ...declared, endpoint: resolveEndpoint(declared, env) };
  const credentials = credentialProvider(connection, env);
  const client = new S3Client({
    region: connection.region,
    endpoint: connection.endpoint,
    forcePathStyle: connection.forcePathStyle,
    credentials,
    // S3-compatible stores (older MinIO, s3rver) store streamed bodies with the aws-chunked
    // framing when flexible checksums are on; AWS itself does not need them.
    ...(connection.endpoint
      ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const, responseChecksumValidation: 'WHEN_REQUIRED' as const }
      : {}),
    maxAttempts: 4,
    // Without these the SDK waits forever on a connection that went silent (a black-holed request
    // hung an import and its datasource's lock for good); a timed-out attempt is retried.
    requestHandler: { connectionTimeout: 10_000, socketTimeout: S3_IDLE_TIMEOUT_MS },
  });
  return { connection, client, credentials };
}

function resolveEndpoint(connection: ConnectionSpec, env: NodeJS.ProcessEnv): string | undefined {
  if (!connection.endpoint?.includes('{{')) return connection.endpoint;
  const parsed = parseSecretRef(connection.endpoint);
  const value = parsed.ok ? resolveSecret(parsed.ref, env) : undefined;
  if (!value || !/^https?:\/\/[^/]+/.test(value)) {
    const variable = parsed.ok && parsed.ref.kind === 'env' ? parsed.ref.variable : 'its variable';
    throw new BucketpipeError(
      'S3_ERROR',
      `connection ${connection.name}: S3_ENDPOINT reads ${variable}, which is ${value ? 'not an http(s) URL' : unsetOrEmpty(variable, env)}.`,
      { context: { connection: connection.name, file: connection.location.file } },
    );
  }
  return value;
}

function credentialProvider(connection: ConnectionSpec, env: NodeJS.ProcessEnv): AwsCredentialIdentityProvider {
  const base = staticCredentials(connection, env) ?? fromNodeProviderChain();
  if (!connection.roleArn) return base;
  return fromTemporaryCredentials({
    masterCredentials: base,
    params: { RoleArn: connection.roleArn, RoleSessionName: 'bucketpipe', ExternalId: connection.externalId },
    clientConfig: { region: connection.region },
  });
}

function staticCredentials(
  connection: ConnectionSpec,
  env: NodeJS.ProcessEnv,
): AwsCredentialIdentityProvider | undefined {
  if (!connection.accessKey) return undefined;
  const accessKeyId = requireSecret(connection, 'S3_ACCESS_KEY', connection.accessKey, env);
  const secretAccessKey = requireSecret(connection, 'S3_SECRET', connection.secret, env);
  const sessionToken = connection.sessionToken ? resolveSecret(connection.sessionToken, env) : undefined;
  const identity: AwsCredentialIdentity = { accessKeyId, secretAccessKey, sessionToken };
  return async () => identity;
}

function requireSecret(
  connection: ConnectionSpec,
  directive: string,
  ref: SecretRef | undefined,
  env: NodeJS.ProcessEnv,
): string {
  const value = ref ? resolveSecret(ref, env) : undefined;
  if (value) return value;
  const where = ref?.kind === 'env' ? `environment variable ${ref.variable} is ${unsetOrEmpty(ref.variable, env)}` : 'it is missing';
  throw new BucketpipeError(
    'S3_CREDENTIALS',
    `connection ${connection.name}: ${directive} has no value (${where}). Set it, or remove S3_ACCESS_KEY and S3_SECRET to use the AWS default credential chain.`,
    { context: { connection: connection.name, file: connection.location.file, line: connection.location.line } },
  );
}
