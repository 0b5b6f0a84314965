import { defineReferenceFitSuite } from './suites/reference-fit-suite.js';

defineReferenceFitSuite('embedded engine');
