import { z } from 'zod';

/** The zod readers that several directives share; each issue names its directive. */

export const CONNECTION_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const q = JSON.stringify;

/** A case-insensitive choice among `choices` (lower-case written value → stored value). */
export function choice<T extends string>(directive: string, choices: ReadonlyMap<string, T>, hint: string) {
  return z
    .string()
    .transform((v, ctx) => {
      const value = choices.get(v.toLowerCase());
      if (value !== undefined) return value;
      ctx.addIssue({ code: 'custom', message: `${directive} ${q(v)} is not supported: ${hint}` });
      return z.NEVER;
    })
    .optional();
}

export function same<T extends string>(...values: T[]): ReadonlyMap<string, T> {
  return new Map(values.map((v) => [v.toLowerCase(), v]));
}

export function flag(directive: string) {
  return z
    .string()
    .transform((v, ctx) => {
      const lower = v.toLowerCase();
      if (lower === 'true' || lower === 'false') return lower === 'true';
      ctx.addIssue({ code: 'custom', message: `${directive} must be true or false, not ${q(v)}` });
      return z.NEVER;
    })
    .optional();
}

export function wholeNumber(directive: string, max: number, what?: string) {
  return z
    .string()
    .transform((v, ctx) => {
      const n = /^\d+$/.test(v) ? Number(v) : NaN;
      if (n >= 1 && n <= max) return n;
      ctx.addIssue({ code: 'custom', message: `${directive} must be a whole number ${what === undefined ? '' : `${what} `}from 1 to ${max}, not ${q(v)}` });
      return z.NEVER;
    })
    .optional();
}

export function connectionName(directive: string) {
  return z
    .string()
    .regex(CONNECTION_NAME, {
      error: (i) => `${directive} ${q(i.input)} is not a connection name: write the base name of a file in connections/, e.g. my_s3 for connections/my_s3.connection`,
    })
    .optional();
}

/** A value checked by `read`, which returns the parsed value or what is wrong with the text. */
export function checked<T>(read: (written: string) => { value: T } | { problem: string }) {
  return z
    .string()
    .transform((v, ctx) => {
      const result = read(v);
      if ('value' in result) return result.value;
      ctx.addIssue({ code: 'custom', message: result.problem });
      return z.NEVER;
    })
    .optional();
}
