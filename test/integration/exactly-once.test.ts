import { defineExactlyOnceSuite } from './suites/exactly-once-suite.js';

defineExactlyOnceSuite('embedded engine', false);
