import { z } from 'zod';
import { indexDirectives, lexDatafile, type Directive } from './lexer.js';
import { parseSecretRef } from './secret-ref.js';
import type { ConnectionSpec, ProjectProblem, SecretRef } from './types.js';

export interface ParsedConnection {
  /** Present only when there is no problem. */
  spec?: ConnectionSpec;
  problems: ProjectProblem[];
  warnings: ProjectProblem[];
}

const SECRET_DIRECTIVES = ['S3_ACCESS_KEY', 'S3_SECRET', 'S3_SESSION_TOKEN'] as const;
type SecretDirective = (typeof SECRET_DIRECTIVES)[number];

const KNOWN_DIRECTIVES = [
  'TYPE',
  'S3_REGION',
  ...SECRET_DIRECTIVES,
  'S3_ENDPOINT',
  'S3_FORCE_PATH_STYLE',
  'S3_ARN',
  'S3_EXTERNAL_ID',
] as const;

const ROLE_ARN = /^arn:aws(?:-[a-z]+)*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const q = JSON.stringify;

/** Values of the non-secret directives, keyed by directive name so issues map back to lines. */
const ConnectionValues = z.object({
  TYPE: z
    .string()
    .refine((v) => v.toLowerCase() === 's3', { error: (i) => `TYPE must be s3, not ${q(i.input)}: only S3 and S3-compatible buckets are supported` })
    .optional(),
  S3_REGION: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, { error: (i) => `S3_REGION ${q(i.input)} is not a region name: write it like us-east-1` })
    .optional(),
  S3_ENDPOINT: z
    .string()
    .refine(isHttpUrl, { error: (i) => `S3_ENDPOINT ${q(i.input)} is not an http(s) URL: write it like http://127.0.0.1:9000 or https://s3.example.com` })
    .optional(),
  S3_FORCE_PATH_STYLE: z
    .string()
    .transform((v, ctx) => {
      const lower = v.toLowerCase();
      if (lower === 'true' || lower === 'false') return lower === 'true';
      ctx.addIssue({ code: 'custom', message: `S3_FORCE_PATH_STYLE must be true or false, not ${q(v)}` });
      return z.NEVER;
    })
    .optional(),
  S3_ARN: z
    .string()
    .regex(ROLE_ARN, { error: (i) => `S3_ARN ${q(i.input)} is not an IAM role ARN: write it like arn:aws:iam::123456789012:role/my-role` })
    .optional(),
  S3_EXTERNAL_ID: z.string().min(1, { error: 'S3_EXTERNAL_ID is empty: write the external id or remove the line' }).optional(),
});

/**
 * Parses `connections/NAME.connection`. Collects every problem of the file; literal secrets
 * become warnings that never repeat the secret.
 */
export function parseConnection(text: string, file: string, name: string): ParsedConnection {
  const lexed = lexDatafile(text, file);
  const problems: ProjectProblem[] = [...lexed.problems];
  const warnings: ProjectProblem[] = [];
  const at = (line: number) => ({ file, line });

  const known = lexed.directives.filter((d) => {
    if ((KNOWN_DIRECTIVES as readonly string[]).includes(d.name)) return true;
    problems.push({ location: at(d.line), message: `unknown directive ${d.name}: a connection file may only set ${KNOWN_DIRECTIVES.join(', ')}` });
    return false;
  });
  const indexed = indexDirectives(known, file);
  problems.push(...indexed.problems);
  const byName = indexed.byName;

  const plain: Record<string, string> = {};
  const secrets: Partial<Record<SecretDirective, SecretRef>> = {};
  let endpointTemplate: string | undefined;
  for (const d of byName.values()) {
    if (d.block !== undefined) {
      problems.push({ location: at(d.line), message: `${d.name} takes a value on the same line, not a ">" block` });
    } else if (isSecretDirective(d.name)) {
      const ref = parseSecretDirective(d, d.name, file, problems, warnings);
      if (ref !== undefined) secrets[d.name] = ref;
    } else if (d.name === 'S3_ENDPOINT' && d.value.includes('{{')) {
      // An endpoint may differ per environment; it is read like a secret, at run time.
      const ref = parseSecretRef(d.value);
      if (!ref.ok || ref.ref.kind !== 'env') problems.push({ location: at(d.line), message: ref.ok ? 'S3_ENDPOINT: write a URL or {{ env("VARIABLE") }}' : `S3_ENDPOINT: ${ref.message}` });
      else endpointTemplate = d.value;
    } else if (d.value.includes('{{')) {
      problems.push({
        location: at(d.line),
        message: `${d.name} cannot use a {{ }} template: write the value itself (only ${SECRET_DIRECTIVES.join(', ')} can read secrets)`,
      });
    } else {
      plain[d.name] = d.value;
    }
  }

  const parsed = ConnectionValues.safeParse(plain);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push({ location: at(byName.get(String(issue.path[0]))?.line ?? 1), message: issue.message });
    }
  }

  const lineOf = (directive: string): number | undefined => byName.get(directive)?.line;
  if (!byName.has('TYPE')) {
    problems.push({ location: at(1), message: 'TYPE is missing: add the line TYPE s3' });
  }
  const accessKeyLine = lineOf('S3_ACCESS_KEY');
  const secretLine = lineOf('S3_SECRET');
  if (accessKeyLine !== undefined && secretLine === undefined) {
    problems.push({ location: at(accessKeyLine), message: 'S3_ACCESS_KEY is set but S3_SECRET is not: set both, or neither to use the AWS default credentials' });
  }
  if (secretLine !== undefined && accessKeyLine === undefined) {
    problems.push({ location: at(secretLine), message: 'S3_SECRET is set but S3_ACCESS_KEY is not: set both, or neither to use the AWS default credentials' });
  }
  const sessionTokenLine = lineOf('S3_SESSION_TOKEN');
  if (sessionTokenLine !== undefined && (accessKeyLine === undefined || secretLine === undefined)) {
    problems.push({ location: at(sessionTokenLine), message: 'S3_SESSION_TOKEN only works with S3_ACCESS_KEY and S3_SECRET: set them too, or remove S3_SESSION_TOKEN' });
  }
  const externalIdLine = lineOf('S3_EXTERNAL_ID');
  if (externalIdLine !== undefined && !byName.has('S3_ARN')) {
    warnings.push({ location: at(externalIdLine), message: 'S3_EXTERNAL_ID has no effect without S3_ARN: set the role to assume, or remove S3_EXTERNAL_ID' });
  }

  problems.sort(byLine);
  warnings.sort(byLine);
  if (problems.length > 0 || !parsed.success) return { problems, warnings };
  const values = parsed.data;
  const spec: ConnectionSpec = {
    name,
    location: at(1),
    type: 's3',
    region: values.S3_REGION ?? 'us-east-1',
    forcePathStyle: values.S3_FORCE_PATH_STYLE ?? (values.S3_ENDPOINT ?? endpointTemplate) !== undefined,
  };
  if (secrets.S3_ACCESS_KEY !== undefined) spec.accessKey = secrets.S3_ACCESS_KEY;
  if (secrets.S3_SECRET !== undefined) spec.secret = secrets.S3_SECRET;
  if (secrets.S3_SESSION_TOKEN !== undefined) spec.sessionToken = secrets.S3_SESSION_TOKEN;
  if (values.S3_ENDPOINT !== undefined) spec.endpoint = values.S3_ENDPOINT;
  if (endpointTemplate !== undefined) spec.endpoint = endpointTemplate;
  if (values.S3_ARN !== undefined) spec.roleArn = values.S3_ARN;
  if (values.S3_EXTERNAL_ID !== undefined) spec.externalId = values.S3_EXTERNAL_ID;
  return { spec, problems, warnings };
}

function byLine(a: ProjectProblem, b: ProjectProblem): number {
  return a.location.line - b.location.line;
}

function isSecretDirective(name: string): name is SecretDirective {
  return (SECRET_DIRECTIVES as readonly string[]).includes(name);
}

/** Messages name the directive but never contain its value. */
function parseSecretDirective(
  d: Directive,
  name: SecretDirective,
  file: string,
  problems: ProjectProblem[],
  warnings: ProjectProblem[],
): SecretRef | undefined {
  const location = { file, line: d.line };
  if (d.value.trim() === '') {
    problems.push({ location, message: `${name} is empty: write {{ tb_secret("${name}") }} and set that environment variable, or remove the line` });
    return undefined;
  }
  const result = parseSecretRef(d.value);
  if (!result.ok) {
    problems.push({ location, message: `${name}: ${result.message}` });
    return undefined;
  }
  if (result.ref.kind === 'literal') {
    warnings.push({
      location,
      message: `${name} is written literally in the file; use {{ tb_secret("${name}") }} and an environment variable ${name} instead, and remove the secret from the file`,
    });
  }
  return result.ref;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}
