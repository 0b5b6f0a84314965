/**
 * `EXPORT_FILE_TEMPLATE`: the key of each exported file, under the prefix of EXPORT_BUCKET_URI.
 *
 * Placeholders: `{{TABLE}}` `{{TABLE_HYPHEN}}` `{{SYNC_ID}}` `{{UUID}}` `{{PART}}` `{{FORMAT}}`
 * `{{YEAR}}` `{{MONTH}}` `{{DAY}}` `{{HOUR}}` `{{MINUTE}}` (spaces inside the braces allowed),
 * `{jobId}`, and the strftime specifiers `%Y %m %d %H %M %S %F %T` (`%%` writes `%`).
 * Times are the run's start, in UTC.
 */

export const DEFAULT_FILE_TEMPLATE = '{{TABLE}}/{{YEAR}}-{{MONTH}}-{{DAY}}/{{SYNC_ID}}-part-{{PART}}.{{FORMAT}}';

export const TEMPLATE_PLACEHOLDERS = [
  'TABLE',
  'TABLE_HYPHEN',
  'SYNC_ID',
  'UUID',
  'PART',
  'FORMAT',
  'YEAR',
  'MONTH',
  'DAY',
  'HOUR',
  'MINUTE',
] as const;
type Placeholder = (typeof TEMPLATE_PLACEHOLDERS)[number];

const SINGLE_BRACE_PLACEHOLDERS = ['jobId'] as const;
type SingleBracePlaceholder = (typeof SINGLE_BRACE_PLACEHOLDERS)[number];

const STRFTIME = ['Y', 'm', 'd', 'H', 'M', 'S', 'F', 'T'] as const;
type Strftime = (typeof STRFTIME)[number];

/** What a template is rendered with, for one file. */
export interface TemplateValues {
  /** The datasource (table) name. */
  table: string;
  syncId: string;
  jobId: string;
  /** 0-based part number of the file within the run; written zero-padded to 5 digits. */
  part: number;
  /** A fresh UUID for this file. */
  uuid: string;
  /** The file extension, e.g. `csv`, `csv.gz`, `jsonl.gz`, `parquet`. */
  format: string;
  /** The run's start; rendered in UTC. */
  time: Date;
}

type Token =
  | { kind: 'text'; text: string }
  | { kind: 'placeholder'; name: Placeholder }
  | { kind: 'single'; name: SingleBracePlaceholder }
  | { kind: 'strftime'; spec: Strftime };

const KNOWN_LIST = [...TEMPLATE_PLACEHOLDERS.map((p) => `{{${p}}}`), ...SINGLE_BRACE_PLACEHOLDERS.map((p) => `{${p}}`)].join(' ');
const STRFTIME_LIST = STRFTIME.map((s) => `%${s}`).join(' ');
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Splits a template into literal text and placeholders. Never throws: every malformed or unknown
 * placeholder becomes a problem (a sentence saying what to change).
 */
function tokenize(template: string): { tokens: Token[]; problems: string[] } {
  const tokens: Token[] = [];
  const problems: string[] = [];
  let text = '';
  const flush = (): void => {
    if (text !== '') tokens.push({ kind: 'text', text });
    text = '';
  };

  let i = 0;
  while (i < template.length) {
    const c = template[i] ?? '';
    if (c === '{' && template[i + 1] === '{') {
      const end = template.indexOf('}}', i + 2);
      if (end === -1) {
        problems.push(`the "{{" at character ${i + 1} is never closed: write placeholders as {{NAME}}, e.g. {{TABLE}}`);
        break;
      }
      const written = template.slice(i, end + 2);
      const name = template.slice(i + 2, end).trim();
      if (isPlaceholder(name)) {
        flush();
        tokens.push({ kind: 'placeholder', name });
      } else {
        problems.push(unknownPlaceholderMessage(written, name));
      }
      i = end + 2;
    } else if (c === '{') {
      const end = template.indexOf('}', i + 1);
      if (end === -1) {
        problems.push(`the "{" at character ${i + 1} is never closed: braces only write placeholders, such as {jobId} or {{TABLE}}`);
        break;
      }
      const written = template.slice(i, end + 1);
      const name = template.slice(i + 1, end).trim();
      if ((SINGLE_BRACE_PLACEHOLDERS as readonly string[]).includes(name)) {
        flush();
        tokens.push({ kind: 'single', name: name as SingleBracePlaceholder });
      } else {
        problems.push(unknownPlaceholderMessage(written, name));
      }
      i = end + 1;
    } else if (c === '}') {
      problems.push(`the "}" at character ${i + 1} closes no placeholder: remove it, or write placeholders as {{NAME}} or {jobId}`);
      i += 1;
    } else if (c === '%') {
      const next = template[i + 1];
      if (next === '%') {
        text += '%';
      } else if (next !== undefined && (STRFTIME as readonly string[]).includes(next)) {
        flush();
        tokens.push({ kind: 'strftime', spec: next as Strftime });
      } else if (next === undefined) {
        problems.push(`the template ends with a lone "%": write %% for a literal %, or a time specifier (${STRFTIME_LIST})`);
      } else {
        problems.push(`%${next} is not a supported time specifier: use ${STRFTIME_LIST}, or write %% for a literal %`);
      }
      i += 2;
    } else {
      text += c;
      i += 1;
    }
  }
  flush();
  return { tokens, problems };
}

function isPlaceholder(name: string): name is Placeholder {
  return (TEMPLATE_PLACEHOLDERS as readonly string[]).includes(name);
}

function unknownPlaceholderMessage(written: string, name: string): string {
  const base = `${written} is not a placeholder`;
  const upper = name.toUpperCase();
  const doubled = written.startsWith('{{');
  if (isPlaceholder(upper)) {
    return doubled ? `${base}: placeholders are upper-case, write {{${upper}}}` : `${base}: write {{${upper}}} with double braces`;
  }
  const single = SINGLE_BRACE_PLACEHOLDERS.find((p) => p.toLowerCase() === name.toLowerCase());
  if (single !== undefined) return `${base}: write {${single}}${doubled ? ' with single braces' : ''}`;
  return `${base}: use ${KNOWN_LIST}, or the time specifiers ${STRFTIME_LIST}`;
}

/** Problems of the key as a whole, shared by the template check and the rendered key check. */
function keyShapeProblems(key: string, what: string): string[] {
  const problems: string[] = [];
  if (key.startsWith('/')) {
    problems.push(`${what} starts with "/": keys are written under the prefix of EXPORT_BUCKET_URI, so remove the leading "/"`);
  }
  if (key.split('/').includes('..')) {
    problems.push(`${what} has ".." as a folder: S3 keys have no parent folder, so remove it`);
  }
  if (/.\/\//.test(key)) {
    problems.push(`${what} contains "//", an empty folder name: write a single "/"`);
  }
  if (CONTROL.test(key)) {
    problems.push(`${what} contains a control character (such as a tab or a line break): remove it`);
  }
  if (key.includes('\\')) {
    problems.push(`${what} contains a backslash: separate folders with "/"`);
  }
  if (key.endsWith('/')) {
    problems.push(`${what} ends with "/", which names a folder: end it with a file name, e.g. {{SYNC_ID}}-part-{{PART}}.{{FORMAT}}`);
  }
  return problems;
}

/**
 * Checks an `EXPORT_FILE_TEMPLATE`; returns one sentence per problem, none when it is usable.
 * A template without {{PART}} or {{UUID}} is accepted: see {@link needsPartPlaceholder}.
 */
export function validateTemplate(template: string): string[] {
  if (template.trim() === '') {
    return [`the template is empty: write the key of each file, e.g. ${DEFAULT_FILE_TEMPLATE}`];
  }
  return [...tokenize(template).problems, ...keyShapeProblems(template, 'the template')];
}

/**
 * Why two runs could render the same key with this template, or undefined when they cannot. A run
 * never writes over the files of another run, so a key must hold something no other run has; dates
 * do not suffice (two runs in one day, or one minute, share them).
 */
export function repeatsAcrossRuns(template: string): string | undefined {
  const unique = tokenize(template).tokens.some((t) => (t.kind === 'placeholder' && (t.name === 'SYNC_ID' || t.name === 'UUID')) || t.kind === 'single');
  return unique ? undefined : "two runs could write the same key, and the second would overwrite the first's file: add {{SYNC_ID}} (one per run), {{UUID}} (one per file) or {jobId}";
}

/**
 * True when the template has neither {{PART}} nor {{UUID}}, so every file of one run would get the
 * same key: fine for a run that writes one file, to be refused when a run writes several.
 */
export function needsPartPlaceholder(template: string): boolean {
  return !tokenize(template).tokens.some((t) => t.kind === 'placeholder' && (t.name === 'PART' || t.name === 'UUID'));
}

/**
 * Renders the key of one file. Throws when the template is not valid, or when the values make
 * an unusable key (empty, leading "/", ".." folder, "//", control character, backslash).
 */
export function renderTemplate(template: string, values: TemplateValues): string {
  const problems = validateTemplate(template);
  if (problems.length > 0) throw new Error(`cannot render the file template ${JSON.stringify(template)}: ${problems.join('; ')}`);
  if (!Number.isSafeInteger(values.part) || values.part < 0) {
    throw new Error(`cannot render the file template: the part number must be a whole number from 0, not ${values.part}`);
  }
  if (Number.isNaN(values.time.getTime())) throw new Error('cannot render the file template: the run time is not a valid date');

  const t = values.time;
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  const year = pad(t.getUTCFullYear(), 4);
  const month = pad(t.getUTCMonth() + 1);
  const day = pad(t.getUTCDate());
  const hour = pad(t.getUTCHours());
  const minute = pad(t.getUTCMinutes());
  const second = pad(t.getUTCSeconds());
  const placeholders: Record<Placeholder, string> = {
    TABLE: values.table,
    TABLE_HYPHEN: values.table.replace(/_/g, '-'),
    SYNC_ID: values.syncId,
    UUID: values.uuid,
    PART: pad(values.part, 5),
    FORMAT: values.format,
    YEAR: year,
    MONTH: month,
    DAY: day,
    HOUR: hour,
    MINUTE: minute,
  };
  const strftime: Record<Strftime, string> = {
    Y: year,
    m: month,
    d: day,
    H: hour,
    M: minute,
    S: second,
    F: `${year}-${month}-${day}`,
    T: `${hour}:${minute}:${second}`,
  };

  const key = tokenize(template)
    .tokens.map((token) => {
      switch (token.kind) {
        case 'text':
          return token.text;
        case 'placeholder':
          return placeholders[token.name];
        case 'single':
          return values.jobId;
        case 'strftime':
          return strftime[token.spec];
      }
    })
    .join('');

  const broken = key === '' ? ['the key is empty'] : keyShapeProblems(key, 'the key');
  if (broken.length > 0) {
    throw new Error(`the file template ${JSON.stringify(template)} renders the unusable key ${JSON.stringify(key)}: ${broken.join('; ')}`);
  }
  return key;
}
