export type * from './types.js';
export { lexDatafile, indexDirectives, stripComment, type BlockLine, type Directive, type LexResult } from './lexer.js';
export { parseSecretRef, resolveSecret, type SecretRefResult } from './secret-ref.js';
export { parseSchemaBlock, type SchemaResult } from './schema-block.js';
export { parseConnection, type ParsedConnection } from './parse-connection.js';
export { parseDatasource, type ParsedDatasource } from './parse-datasource.js';
export { loadProject, formatProblem } from './load-project.js';
