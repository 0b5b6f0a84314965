import type { SecretRef } from './types.js';

export type SecretRefResult = { ok: true; ref: SecretRef } | { ok: false; message: string };

const QUOTED = String.raw`"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'`;
const TEMPLATE = new RegExp(
  String.raw`^\{\{\s*(tb_secret|env)\s*\(\s*(?:${QUOTED})\s*(?:,\s*(?:${QUOTED})\s*)?\)\s*\}\}$`,
);
const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Parses a setting value into a secret reference: `{{ tb_secret("X") }}`, `{{ tb_secret('X') }}`,
 * `{{ env("X") }}` (optionally with a second, default argument) or a literal value.
 * Messages never repeat the value, which may be a secret.
 */
export function parseSecretRef(value: string): SecretRefResult {
  const trimmed = value.trim();
  if (!trimmed.includes('{{') && !trimmed.includes('}}')) {
    return { ok: true, ref: { kind: 'literal', value } };
  }
  const match = TEMPLATE.exec(trimmed);
  if (match === null) {
    const fn = /^\{\{\s*([A-Za-z_]\w*)\s*\(/.exec(trimmed)?.[1];
    const what = fn !== undefined && fn !== 'tb_secret' && fn !== 'env' ? `the template function ${fn} is not supported` : 'this template is not understood';
    return { ok: false, message: `${what}: write {{ tb_secret("NAME") }} or {{ env("NAME") }}, where NAME is an environment variable` };
  }
  const variable = unescape(match[2] ?? match[3] ?? '');
  if (!VARIABLE.test(variable)) {
    return {
      ok: false,
      message: `${JSON.stringify(variable)} is not an environment variable name: use letters, digits and underscores, not starting with a digit`,
    };
  }
  const fallback = match[4] ?? match[5];
  const ref: SecretRef = fallback === undefined ? { kind: 'env', variable } : { kind: 'env', variable, fallback: unescape(fallback) };
  return { ok: true, ref };
}

/**
 * The value of a secret: the environment variable (or its fallback when the variable is unset or
 * empty, as `X=` in a shell or an `.env` file leaves it) or the literal. `undefined` when the variable
 * is unset and there is no fallback.
 */
export function resolveSecret(ref: SecretRef, env: Record<string, string | undefined> = process.env): string | undefined {
  if (ref.kind === 'literal') return ref.value;
  const value = env[ref.variable];
  return value === undefined || value === '' ? (ref.fallback ?? value) : value;
}

/** What is wrong with a variable a secret reads, for a message: "not set" or "empty". */
export function unsetOrEmpty(variable: string, env: Record<string, string | undefined> = process.env): string {
  return env[variable] === '' ? 'empty' : 'not set';
}

function unescape(quoted: string): string {
  return quoted.replace(/\\(.)/g, '$1');
}
