import { useServerStore } from '../helpers/embedded.js';
import { defineCsvImportSuite } from './suites/csv-import-suite.js';

useServerStore();
defineCsvImportSuite('ClickHouse server 18.16');
