import { defineOddInputSuite } from './suites/odd-input-suite.js';

defineOddInputSuite('embedded engine');
