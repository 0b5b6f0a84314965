import { defineBadInputSuite } from './suites/bad-input-suite.js';

defineBadInputSuite('embedded engine');
