import { describe, it, expect } from 'vitest';
import { parseConnection } from '../../src/project/parse-connection.js';
import { parseSecretRef, resolveSecret } from '../../src/project/secret-ref.js';
import { createBucketAccess } from '../../src/bucket/s3-client.js';
import type { ConnectionSpec } from '../../src/project/types.js';
import { EXAMPLE_CONNECTION } from '../fixtures/example-project.js';

const FILE = 'connections/my_s3.connection';

function problemsOf(text: string): [number, string][] {
  return parseConnection(text, FILE, 'my_s3').problems.map((p) => [p.location.line, p.message]);
}

describe('parseSecretRef', () => {
  it('reads tb_secret and env templates, with either quote and any spacing', () => {
    expect(parseSecretRef('{{ tb_secret("S3_KEY") }}')).toEqual({ ok: true, ref: { kind: 'env', variable: 'S3_KEY' } });
    expect(parseSecretRef("{{tb_secret('S3_KEY')}}")).toEqual({ ok: true, ref: { kind: 'env', variable: 'S3_KEY' } });
    expect(parseSecretRef('{{  env ( "AWS_SECRET" )  }}')).toEqual({ ok: true, ref: { kind: 'env', variable: 'AWS_SECRET' } });
    expect(parseSecretRef('  {{ env("X1") }}  ')).toEqual({ ok: true, ref: { kind: 'env', variable: 'X1' } });
  });

  it('keeps the default of tb_secret as a fallback', () => {
    expect(parseSecretRef('{{ tb_secret("S3_KEY", "minio") }}')).toEqual({
      ok: true,
      ref: { kind: 'env', variable: 'S3_KEY', fallback: 'minio' },
    });
    expect(parseSecretRef("{{ tb_secret('K', 'it\\'s, ok') }}")).toEqual({
      ok: true,
      ref: { kind: 'env', variable: 'K', fallback: "it's, ok" },
    });
  });

  it('takes a value without a template literally', () => {
    expect(parseSecretRef('AKIAABCDEFGH')).toEqual({ ok: true, ref: { kind: 'literal', value: 'AKIAABCDEFGH' } });
    expect(parseSecretRef('a{b}c')).toEqual({ ok: true, ref: { kind: 'literal', value: 'a{b}c' } });
  });

  it('rejects any other template', () => {
    expect(parseSecretRef('{{ tb_secrets("X") }}')).toEqual({
      ok: false,
      message: 'the template function tb_secrets is not supported: write {{ tb_secret("NAME") }} or {{ env("NAME") }}, where NAME is an environment variable',
    });
    for (const value of ['{{ X }}', 'prefix{{ env("X") }}', '{{ env(X) }}', '{{ env("X") }', '{{ env("X", "a", "b") }}']) {
      const result = parseSecretRef(value);
      expect(result.ok, value).toBe(false);
    }
    expect(parseSecretRef('{{ env("MY VAR") }}')).toEqual({
      ok: false,
      message: '"MY VAR" is not an environment variable name: use letters, digits and underscores, not starting with a digit',
    });
  });
});

describe('resolveSecret', () => {
  it('reads the variable, then the fallback, from the given environment', () => {
    const env = { KEY: 'from-env', EMPTY: '' };
    expect(resolveSecret({ kind: 'env', variable: 'KEY' }, env)).toBe('from-env');
    expect(resolveSecret({ kind: 'env', variable: 'KEY', fallback: 'dflt' }, env)).toBe('from-env');
    expect(resolveSecret({ kind: 'env', variable: 'MISSING', fallback: 'dflt' }, env)).toBe('dflt');
    expect(resolveSecret({ kind: 'env', variable: 'MISSING' }, env)).toBeUndefined();
    expect(resolveSecret({ kind: 'env', variable: 'EMPTY' }, env)).toBe('');
    expect(resolveSecret({ kind: 'literal', value: 'lit' }, env)).toBe('lit');
  });

  it('takes the fallback when the variable is empty, as X= leaves it', () => {
    const env = { EMPTY: '' };
    expect(resolveSecret({ kind: 'env', variable: 'EMPTY', fallback: 'dflt' }, env)).toBe('dflt');
    expect(resolveSecret({ kind: 'env', variable: 'EMPTY', fallback: '' }, env)).toBe('');
  });

  it('defaults to process.env', () => {
    process.env.BUCKETPIPE_TEST_SECRET_REF = 'from-process';
    try {
      expect(resolveSecret({ kind: 'env', variable: 'BUCKETPIPE_TEST_SECRET_REF' })).toBe('from-process');
    } finally {
      delete process.env.BUCKETPIPE_TEST_SECRET_REF;
    }
  });
});

describe('parseConnection', () => {
  it('parses the example connection', () => {
    const result = parseConnection(EXAMPLE_CONNECTION, FILE, 'my_s3');
    expect(result.problems).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.spec).toEqual({
      name: 'my_s3',
      location: { file: FILE, line: 1 },
      type: 's3',
      region: 'us-east-1',
      accessKey: { kind: 'env', variable: 'S3_ACCESS_KEY' },
      secret: { kind: 'env', variable: 'S3_SECRET' },
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
    });
  });

  it('reads the same file with CRLF line ends and a byte order mark', () => {
    const result = parseConnection('\uFEFF' + EXAMPLE_CONNECTION.replace(/\n/g, '\r\n'), FILE, 'my_s3');
    expect(result.problems).toEqual([]);
    expect(result.spec).toEqual(parseConnection(EXAMPLE_CONNECTION, FILE, 'my_s3').spec);
  });

  it('uses the defaults: us-east-1, the default credential chain, path style only with an endpoint', () => {
    expect(parseConnection('TYPE s3\n', FILE, 'c').spec).toEqual({
      name: 'c',
      location: { file: FILE, line: 1 },
      type: 's3',
      region: 'us-east-1',
      forcePathStyle: false,
    });
    expect(parseConnection('TYPE S3\nS3_ENDPOINT https://r2.example.com\n', FILE, 'c').spec?.forcePathStyle).toBe(true);
    expect(parseConnection('TYPE s3\nS3_ENDPOINT https://r2.example.com\nS3_FORCE_PATH_STYLE False\n', FILE, 'c').spec?.forcePathStyle).toBe(false);
  });

  it('reads a role to assume, with its external id and temporary credentials', () => {
    const text = [
      'TYPE s3',
      'S3_REGION eu-west-3',
      "S3_ACCESS_KEY {{ env('KEY') }}",
      'S3_SECRET {{ tb_secret("SECRET", "dev-secret") }}',
      'S3_SESSION_TOKEN {{ tb_secret("TOKEN") }}',
      'S3_ARN arn:aws:iam::123456789012:role/bucketpipe-reader',
      'S3_EXTERNAL_ID "ext-42"',
    ].join('\n');
    const { spec, problems, warnings } = parseConnection(text, FILE, 'c');
    expect(problems).toEqual([]);
    expect(warnings).toEqual([]);
    expect(spec).toMatchObject({
      region: 'eu-west-3',
      accessKey: { kind: 'env', variable: 'KEY' },
      secret: { kind: 'env', variable: 'SECRET', fallback: 'dev-secret' },
      sessionToken: { kind: 'env', variable: 'TOKEN' },
      roleArn: 'arn:aws:iam::123456789012:role/bucketpipe-reader',
      externalId: 'ext-42',
      forcePathStyle: false,
    });
  });

  it('warns about literal secrets without repeating them', () => {
    const accessKey = 'AKIAIOSFODNN7EXAMPLE';
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    const token = 'FwoGZXIvYXdzEBYaDHqa0AP';
    const text = `TYPE s3\nS3_ACCESS_KEY ${accessKey}\nS3_SECRET "${secret}"\nS3_SESSION_TOKEN ${token}\n`;
    const { spec, problems, warnings } = parseConnection(text, FILE, 'c');
    expect(problems).toEqual([]);
    expect(spec?.accessKey).toEqual({ kind: 'literal', value: accessKey });
    expect(spec?.secret).toEqual({ kind: 'literal', value: secret });
    expect(warnings).toEqual([
      {
        location: { file: FILE, line: 2 },
        message:
          'S3_ACCESS_KEY is written literally in the file; use {{ tb_secret("S3_ACCESS_KEY") }} and an environment variable S3_ACCESS_KEY instead, and remove the secret from the file',
      },
      {
        location: { file: FILE, line: 3 },
        message:
          'S3_SECRET is written literally in the file; use {{ tb_secret("S3_SECRET") }} and an environment variable S3_SECRET instead, and remove the secret from the file',
      },
      {
        location: { file: FILE, line: 4 },
        message:
          'S3_SESSION_TOKEN is written literally in the file; use {{ tb_secret("S3_SESSION_TOKEN") }} and an environment variable S3_SESSION_TOKEN instead, and remove the secret from the file',
      },
    ]);
    const all = JSON.stringify(warnings);
    for (const value of [accessKey, secret, token]) expect(all).not.toContain(value);
  });

  it('never repeats a secret in a problem either', () => {
    const secret = 'sup3r-s3cret-value-123';
    const { problems } = parseConnection(`TYPE s3\nS3_SECRET ${secret}\nS3_SECRET ${secret}\nS3_SESSION_TOKEN >\n    ${secret}\n`, FILE, 'c');
    expect(problems.map((p) => p.location.line)).toEqual([2, 3, 4, 4]);
    expect(JSON.stringify(problems)).not.toContain(secret);
  });

  it('reports a TYPE other than s3, and a missing TYPE', () => {
    expect(problemsOf('TYPE gcs\n')).toEqual([[1, 'TYPE must be s3, not "gcs": only S3 and S3-compatible buckets are supported']]);
    expect(problemsOf('# no type\nS3_REGION us-east-1\n')).toEqual([[1, 'TYPE is missing: add the line TYPE s3']]);
  });

  it('reports malformed values at their lines', () => {
    const text = [
      'TYPE s3',
      'S3_REGION "us east 1"',
      'S3_ENDPOINT ftp://files.example.com',
      'S3_FORCE_PATH_STYLE yes',
      'S3_ARN arn:aws:iam::12345:user/bob',
      'S3_EXTERNAL_ID ""',
    ].join('\n');
    expect(problemsOf(text)).toEqual([
      [2, 'S3_REGION "us east 1" is not a region name: write it like us-east-1'],
      [3, 'S3_ENDPOINT "ftp://files.example.com" is not an http(s) URL: write it like http://127.0.0.1:9000 or https://s3.example.com'],
      [4, 'S3_FORCE_PATH_STYLE must be true or false, not "yes"'],
      [5, 'S3_ARN "arn:aws:iam::12345:user/bob" is not an IAM role ARN: write it like arn:aws:iam::123456789012:role/my-role'],
      [6, 'S3_EXTERNAL_ID is empty: write the external id or remove the line'],
    ]);
    expect(problemsOf('TYPE s3\nS3_ENDPOINT localhost:9000\n')).toHaveLength(1);
  });

  it('reports unknown and repeated directives', () => {
    const text = 'TYPE s3\nS3_BUCKET my-bucket\nS3_REGION us-east-1\nS3_REGION eu-west-1\n';
    expect(problemsOf(text)).toEqual([
      [
        2,
        'unknown directive S3_BUCKET: a connection file may only set TYPE, S3_REGION, S3_ACCESS_KEY, S3_SECRET, S3_SESSION_TOKEN, S3_ENDPOINT, S3_FORCE_PATH_STYLE, S3_ARN, S3_EXTERNAL_ID',
      ],
      [4, 'S3_REGION is set twice (first on line 3): keep only one'],
    ]);
  });

  it('reports a key without its secret, a secret without its key, and a lone session token', () => {
    expect(problemsOf('TYPE s3\nS3_ACCESS_KEY {{ env("K") }}\n')).toEqual([
      [2, 'S3_ACCESS_KEY is set but S3_SECRET is not: set both, or neither to use the AWS default credentials'],
    ]);
    expect(problemsOf('TYPE s3\nS3_SECRET {{ env("S") }}\nS3_SESSION_TOKEN {{ env("T") }}\n')).toEqual([
      [2, 'S3_SECRET is set but S3_ACCESS_KEY is not: set both, or neither to use the AWS default credentials'],
      [3, 'S3_SESSION_TOKEN only works with S3_ACCESS_KEY and S3_SECRET: set them too, or remove S3_SESSION_TOKEN'],
    ]);
  });

  it('reports templates outside secrets, unknown templates, empty secrets and blocks', () => {
    const text = [
      'TYPE s3',
      'S3_REGION {{ tb_secret("REGION") }}',
      'S3_ACCESS_KEY {{ secret("K") }}',
      'S3_SECRET ""',
      'S3_ENDPOINT >',
      '    http://localhost:9000',
    ].join('\n');
    expect(problemsOf(text)).toEqual([
      [2, 'S3_REGION cannot use a {{ }} template: write the value itself (only S3_ACCESS_KEY, S3_SECRET, S3_SESSION_TOKEN can read secrets)'],
      [3, 'S3_ACCESS_KEY: the template function secret is not supported: write {{ tb_secret("NAME") }} or {{ env("NAME") }}, where NAME is an environment variable'],
      [4, 'S3_SECRET is empty: write {{ tb_secret("S3_SECRET") }} and set that environment variable, or remove the line'],
      [5, 'S3_ENDPOINT takes a value on the same line, not a ">" block'],
    ]);
  });

  it('warns that S3_EXTERNAL_ID needs S3_ARN', () => {
    const { spec, warnings } = parseConnection('TYPE s3\nS3_EXTERNAL_ID abc\n', FILE, 'c');
    expect(spec?.externalId).toBe('abc');
    expect(warnings).toEqual([
      { location: { file: FILE, line: 2 }, message: 'S3_EXTERNAL_ID has no effect without S3_ARN: set the role to assume, or remove S3_EXTERNAL_ID' },
    ]);
  });

  it('collects every problem of the file and gives no spec', () => {
    const text = ['TYPE ftp', 'S3_REGION', 'S3_FORCE_PATH_STYLE 1', 's3_arn x', 'S3_ENDPOINT "http://x'].join('\n');
    const result = parseConnection(text, FILE, 'c');
    expect(result.spec).toBeUndefined();
    expect(result.problems.map((p) => p.location.line).sort()).toEqual([1, 2, 3, 4, 5, 5]);
    expect(result.problems.every((p) => p.location.file === FILE)).toBe(true);
  });
});

describe('connection secrets', () => {
  const connection: ConnectionSpec = {
    name: 'c',
    location: { file: 'connections/c.connection', line: 1 },
    type: 's3',
    region: 'us-east-1',
    forcePathStyle: true,
    endpoint: 'http://127.0.0.1:9',
    accessKey: { kind: 'env', variable: 'BP_KEY', fallback: 'default-key' },
    secret: { kind: 'env', variable: 'BP_SECRET' },
  };

  it('use the default of tb_secret("X", "d") when X is set but empty', async () => {
    const access = createBucketAccess(connection, { BP_KEY: '', BP_SECRET: 'from-env' });
    expect(await access.credentials()).toMatchObject({ accessKeyId: 'default-key', secretAccessKey: 'from-env' });
  });

  it('say that a variable without a default is empty, not that it is not set', () => {
    expect(() => createBucketAccess(connection, { BP_KEY: 'k', BP_SECRET: '' })).toThrow('environment variable BP_SECRET is empty');
    expect(() => createBucketAccess(connection, { BP_KEY: 'k' })).toThrow('environment variable BP_SECRET is not set');
  });
});
