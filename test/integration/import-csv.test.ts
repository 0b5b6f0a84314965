import { defineCsvImportSuite } from './suites/csv-import-suite.js';

defineCsvImportSuite('embedded engine');
