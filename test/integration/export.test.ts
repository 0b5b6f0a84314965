import { defineExportSuite } from './suites/export-suite.js';

defineExportSuite('embedded engine');
