import { describe, it, expect } from 'vitest';
import {
  DEFAULT_FILE_TEMPLATE,
  needsPartPlaceholder,
  renderTemplate,
  validateTemplate,
  type TemplateValues,
} from '../../src/project/export-template.js';

const KNOWN =
  '{{TABLE}} {{TABLE_HYPHEN}} {{SYNC_ID}} {{UUID}} {{PART}} {{FORMAT}} {{YEAR}} {{MONTH}} {{DAY}} {{HOUR}} {{MINUTE}} {jobId}, or the time specifiers %Y %m %d %H %M %S %F %T';

const VALUES: TemplateValues = {
  table: 'web_events_v2',
  syncId: 'sync-42',
  jobId: 'job-7',
  part: 3,
  uuid: '0b0e7a8e-5c1f-4e59-9a55-2b1f3c7d9e01',
  format: 'csv.gz',
  // 23:05:09 UTC on 2024-03-31: already April 1st in any time zone east of UTC.
  time: new Date(Date.UTC(2024, 2, 31, 23, 5, 9)),
};

const render = (template: string, values: Partial<TemplateValues> = {}) => renderTemplate(template, { ...VALUES, ...values });

describe('renderTemplate', () => {
  it('renders the default template', () => {
    expect(render(DEFAULT_FILE_TEMPLATE)).toBe('web_events_v2/2024-03-31/sync-42-part-00003.csv.gz');
  });

  it('renders every placeholder', () => {
    expect(render('{{TABLE}}')).toBe('web_events_v2');
    expect(render('{{TABLE_HYPHEN}}')).toBe('web-events-v2');
    expect(render('{{SYNC_ID}}')).toBe('sync-42');
    expect(render('{{UUID}}')).toBe('0b0e7a8e-5c1f-4e59-9a55-2b1f3c7d9e01');
    expect(render('{{PART}}')).toBe('00003');
    expect(render('{{FORMAT}}')).toBe('csv.gz');
    expect(render('{{YEAR}}')).toBe('2024');
    expect(render('{{MONTH}}')).toBe('03');
    expect(render('{{DAY}}')).toBe('31');
    expect(render('{{HOUR}}')).toBe('23');
    expect(render('{{MINUTE}}')).toBe('05');
    expect(render('{jobId}')).toBe('job-7');
    expect(render('{{ TABLE }}/{ jobId }.x')).toBe('web_events_v2/job-7.x');
    expect(render('x/{{TABLE}}-{{TABLE}}.{{FORMAT}}', { format: 'parquet' })).toBe('x/web_events_v2-web_events_v2.parquet');
    expect(render('{{FORMAT}}', { format: 'jsonl.gz' })).toBe('jsonl.gz');
  });

  it('pads the part number to 5 digits', () => {
    expect(render('p{{PART}}', { part: 0 })).toBe('p00000');
    expect(render('p{{PART}}', { part: 1 })).toBe('p00001');
    expect(render('p{{PART}}', { part: 12345 })).toBe('p12345');
    expect(render('p{{PART}}', { part: 123456 })).toBe('p123456');
  });

  it('pads the time and reads it in UTC', () => {
    const time = new Date('2025-01-02T03:04:05.678Z');
    expect(render('{{YEAR}}-{{MONTH}}-{{DAY}}T{{HOUR}}:{{MINUTE}}', { time })).toBe('2025-01-02T03:04');
    expect(render('{{YEAR}}', { time: new Date(Date.UTC(987, 0, 1)) })).toBe('0987');
    // The same instant written with an offset is the same UTC time.
    expect(render('%F %T', { time: new Date('2024-04-01T01:05:09+02:00') })).toBe('2024-03-31 23:05:09');
  });

  it('renders strftime specifiers', () => {
    expect(render('%Y/%m/%d/%H/%M/%S')).toBe('2024/03/31/23/05/09');
    expect(render('%F')).toBe('2024-03-31');
    expect(render('%T')).toBe('23:05:09');
    expect(render('dt=%F/h=%H/{{UUID}}.{{FORMAT}}')).toBe('dt=2024-03-31/h=23/0b0e7a8e-5c1f-4e59-9a55-2b1f3c7d9e01.csv.gz');
  });

  it('writes %% as %', () => {
    expect(render('100%%/%Y')).toBe('100%/2024');
    expect(render('%%Y')).toBe('%Y');
    expect(render('a%%%Y')).toBe('a%2024');
  });

  it('throws for a template that does not validate', () => {
    expect(() => render('{{NOPE}}')).toThrow(/cannot render the file template "\{\{NOPE\}\}": \{\{NOPE\}\} is not a placeholder/);
  });

  it('throws when the values break the key', () => {
    expect(() => render('{jobId}/x', { jobId: '' })).toThrow(/renders the unusable key "\/x": the key starts with "\/"/);
    expect(() => render('{jobId}', { jobId: '' })).toThrow(/the key is empty/);
    expect(() => render('a/{jobId}/x', { jobId: '..' })).toThrow(/has "\.\." as a folder/);
    expect(() => render('a/{jobId}/x', { jobId: '' })).toThrow(/contains "\/\/"/);
    expect(() => render('a/{jobId}', { jobId: 'b\nc' })).toThrow(/control character/);
    expect(() => render('a/{jobId}', { jobId: 'b\\c' })).toThrow(/backslash/);
    expect(() => render('a/{jobId}', { jobId: 'b/' })).toThrow(/ends with "\/"/);
    expect(() => render('{{PART}}', { part: -1 })).toThrow(/part number/);
    expect(() => render('{{PART}}', { part: 1.5 })).toThrow(/part number/);
    expect(() => render('{{YEAR}}', { time: new Date(NaN) })).toThrow(/not a valid date/);
  });
});

describe('validateTemplate', () => {
  it('accepts the default template and every placeholder', () => {
    expect(validateTemplate(DEFAULT_FILE_TEMPLATE)).toEqual([]);
    expect(
      validateTemplate(
        '{{TABLE}}/{{TABLE_HYPHEN}}/{{SYNC_ID}}/{{UUID}}/{{PART}}/{{FORMAT}}/{{YEAR}}{{MONTH}}{{DAY}}{{HOUR}}{{MINUTE}}/{jobId}/%Y%m%d%H%M%S/%F/%T/100%%.x',
      ),
    ).toEqual([]);
    expect(validateTemplate('{{ TABLE }}/x')).toEqual([]);
    expect(validateTemplate('single.csv')).toEqual([]);
  });

  it('reports unknown placeholders with the known ones', () => {
    expect(validateTemplate('{{TABLES}}/x')).toEqual([`{{TABLES}} is not a placeholder: use ${KNOWN}`]);
    expect(validateTemplate('{{table}}/x')).toEqual(['{{table}} is not a placeholder: placeholders are upper-case, write {{TABLE}}']);
    expect(validateTemplate('{{jobId}}/x')).toEqual(['{{jobId}} is not a placeholder: write {jobId} with single braces']);
    expect(validateTemplate('{{}}/x')).toEqual([`{{}} is not a placeholder: use ${KNOWN}`]);
  });

  it('reports unknown single-brace placeholders', () => {
    expect(validateTemplate('{job}/x')).toEqual([`{job} is not a placeholder: use ${KNOWN}`]);
    expect(validateTemplate('{jobid}/x')).toEqual(['{jobid} is not a placeholder: write {jobId}']);
    expect(validateTemplate('{TABLE}/x')).toEqual(['{TABLE} is not a placeholder: write {{TABLE}} with double braces']);
    expect(validateTemplate('{date:%Y}/x')).toHaveLength(1);
  });

  it('reports unclosed and stray braces', () => {
    expect(validateTemplate('{{TABLE}/x')).toEqual(['the "{{" at character 1 is never closed: write placeholders as {{NAME}}, e.g. {{TABLE}}']);
    expect(validateTemplate('a/{jobId')).toEqual(['the "{" at character 3 is never closed: braces only write placeholders, such as {jobId} or {{TABLE}}']);
    expect(validateTemplate('a}b')).toEqual(['the "}" at character 2 closes no placeholder: remove it, or write placeholders as {{NAME}} or {jobId}']);
  });

  it('reports unknown strftime specifiers', () => {
    expect(validateTemplate('%Y/%j/x')).toEqual(['%j is not a supported time specifier: use %Y %m %d %H %M %S %F %T, or write %% for a literal %']);
    expect(validateTemplate('a%20b')).toEqual(['%2 is not a supported time specifier: use %Y %m %d %H %M %S %F %T, or write %% for a literal %']);
    expect(validateTemplate('x%')).toEqual(['the template ends with a lone "%": write %% for a literal %, or a time specifier (%Y %m %d %H %M %S %F %T)']);
  });

  it('reports keys that are not usable', () => {
    expect(validateTemplate('')).toEqual([
      `the template is empty: write the key of each file, e.g. ${DEFAULT_FILE_TEMPLATE}`,
    ]);
    expect(validateTemplate('  ')).toHaveLength(1);
    expect(validateTemplate('/{{TABLE}}.csv')).toEqual([
      'the template starts with "/": keys are written under the prefix of EXPORT_BUCKET_URI, so remove the leading "/"',
    ]);
    expect(validateTemplate('a/../b.csv')).toEqual(['the template has ".." as a folder: S3 keys have no parent folder, so remove it']);
    expect(validateTemplate('..')).toHaveLength(1);
    expect(validateTemplate('a..b/c...csv')).toEqual([]);
    expect(validateTemplate('a//b.csv')).toEqual(['the template contains "//", an empty folder name: write a single "/"']);
    expect(validateTemplate('a\tb.csv')).toEqual(['the template contains a control character (such as a tab or a line break): remove it']);
    expect(validateTemplate('a\u007fb')).toHaveLength(1);
    expect(validateTemplate('a\\b.csv')).toEqual(['the template contains a backslash: separate folders with "/"']);
    expect(validateTemplate('{{TABLE}}/')).toEqual([
      'the template ends with "/", which names a folder: end it with a file name, e.g. {{SYNC_ID}}-part-{{PART}}.{{FORMAT}}',
    ]);
  });

  it('reports every problem of a template', () => {
    expect(validateTemplate('/{{X}}/../%q\\/').map((p) => p.split(':')[0])).toEqual([
      '{{X}} is not a placeholder',
      '%q is not a supported time specifier',
      'the template starts with "/"',
      'the template has ".." as a folder',
      'the template contains a backslash',
      'the template ends with "/", which names a folder',
    ]);
  });
});

describe('needsPartPlaceholder', () => {
  it('is true when files of one run would share a key', () => {
    expect(needsPartPlaceholder(DEFAULT_FILE_TEMPLATE)).toBe(false);
    expect(needsPartPlaceholder('{{TABLE}}/{{UUID}}.{{FORMAT}}')).toBe(false);
    expect(needsPartPlaceholder('{{TABLE}}/{{ PART }}.{{FORMAT}}')).toBe(false);
    expect(needsPartPlaceholder('{{TABLE}}/{{SYNC_ID}}.{{FORMAT}}')).toBe(true);
    expect(needsPartPlaceholder('latest.csv')).toBe(true);
    expect(needsPartPlaceholder('PART.csv')).toBe(true);
    // A template that accepts single-file exports is still valid.
    expect(validateTemplate('latest.csv')).toEqual([]);
  });
});
